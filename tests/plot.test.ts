/** @file tg.viz charts: plot (lines, markers, log axes, legend), histogram, imageGrid and figure — well-formed SVG that puts every point where it belongs. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as tg from "../src/index.ts";
import { all, parseXml, unescapeXml, type XmlElement } from "./xml.ts";

const { plot, histogram, histogramCounts, imageGrid, figure, niceTicks, formatTick } = tg.viz;

/** The plot area (the framed rectangle) in px. */
function frame(root: XmlElement) {
  const r = all(root, (e) => e.name === "rect" && e.attrs.fill === "none" && e.attrs.stroke === "#333")[0]!;
  const x = Number(r.attrs.x);
  const y = Number(r.attrs.y);
  return { x0: x, x1: x + Number(r.attrs.width), y1: y, y0: y + Number(r.attrs.height) };
}

/** The points of a path's `d`, split into its M… runs. */
function runs(d: string): [number, number][][] {
  return d
    .split("M")
    .filter(Boolean)
    .map((run) => run.split("L").map((p) => p.trim().split(" ").map(Number) as [number, number]));
}

const texts = (root: XmlElement) => all(root, (e) => e.name === "text").map((e) => unescapeXml(e.text));

describe("plot", () => {
  test("a line maps the axis limits onto the plot frame's corners, and labels everything", () => {
    const svg = plot([{ x: [0, 5, 10], y: [0, 50, 100], label: "train <loss> & co" }], {
      xLim: [0, 10],
      yLim: [0, 100],
      title: "T",
      xLabel: "step",
      yLabel: "loss",
      width: 400,
      height: 300,
    });
    const root = parseXml(svg);
    assert.equal(root.name, "svg");
    assert.deepEqual([root.attrs.width, root.attrs.height, root.attrs.viewBox], ["400", "300", "0 0 400 300"]);
    const f = frame(root);
    const path = all(root, (e) => e.name === "path")[0]!;
    const [pts] = runs(path.attrs.d!);
    assert.deepEqual(pts![0], [f.x0, f.y0], "(0, 0) is the bottom-left corner");
    assert.deepEqual(pts![2], [f.x1, f.y1], "(10, 100) is the top-right corner");
    assert.deepEqual(pts![1], [(f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2]);
    const t = texts(root);
    for (const s of ["T", "step", "loss", "train <loss> & co", "0", "40", "100", "10"]) assert.ok(t.includes(s), `text "${s}"`);
    assert.ok(svg.includes("train &lt;loss&gt; &amp; co"), "labels are escaped");
  });

  test("x defaults to 0, 1, 2, …; NaN and ±Infinity break the line; markers skip them", () => {
    const svg = plot(
      [
        { y: [1, 2, Number.NaN, 4, 5] },
        { y: [1, Number.POSITIVE_INFINITY, 3], mode: "markers" },
      ],
      { xLim: [0, 4], yLim: [0, 5] },
    );
    const root = parseXml(svg);
    const paths = all(root, (e) => e.name === "path");
    assert.equal(paths.length, 1);
    assert.deepEqual(
      runs(paths[0]!.attrs.d!).map((r) => r.length),
      [2, 2],
    );
    assert.equal(all(root, (e) => e.name === "circle").length, 2);
    assert.ok(!/NaN|Infinity|undefined/.test(svg));
  });

  test("log axes: powers of ten as ticks, non-positive values left out", () => {
    const svg = plot({ x: [1, 2, 3, 4], y: [1e-3, 0, 1, 100] }, { yScale: "log", yLim: [1e-3, 100] });
    const root = parseXml(svg);
    const t = texts(root);
    for (const s of ["0.001", "0.01", "0.1", "1", "10", "100"]) assert.ok(t.includes(s), `tick ${s}`);
    const [a, b] = runs(all(root, (e) => e.name === "path")[0]!.attrs.d!);
    assert.deepEqual([a!.length, b!.length], [1, 2], "the 0 is dropped, splitting the line");
    const f = frame(root);
    assert.equal(a![0]![1], f.y0, "0.001 at the bottom");
    assert.equal(b![1]![1], f.y1, "100 at the top");
    assert.ok(Math.abs(b![0]![1] - (f.y0 - 0.6 * (f.y0 - f.y1))) < 0.1, "1 is three decades of five up");
  });

  test("a short log range gets 1-2-5 ticks; explicit ticks win", () => {
    const t = texts(parseXml(plot({ y: [0.15, 2.5] }, { yScale: "log" })));
    for (const s of ["0.2", "0.5", "1", "2"]) assert.ok(t.includes(s), `tick ${s} in ${t}`);
    const narrow = texts(parseXml(plot({ y: [1.1, 2.4] }, { yScale: "log" })));
    for (const s of ["1.5", "2"]) assert.ok(narrow.includes(s), `narrow range: tick ${s} in ${narrow}`);
    const xAxis = all(parseXml(plot({ x: [1, 2, 3], y: [1, 2, 3] }, { xTicks: [1, 2, 3] })), (e) => e.name === "text" && e.attrs["text-anchor"] === "middle");
    assert.deepEqual(
      xAxis.map((e) => e.text),
      ["1", "2", "3"],
    );
  });

  test("legend: only labelled series, in the corner that hides the fewest points; 'none' hides it", () => {
    // data fill the top-right corner: the legend must go elsewhere
    const xs = Array.from({ length: 50 }, (_, i) => 5 + i / 10);
    const svg = plot(
      [
        { x: xs, y: xs, label: "a", mode: "markers" },
        { x: [0, 10], y: [0, 0], label: "b" },
        { x: [0, 10], y: [1, 1] },
      ],
      { xLim: [0, 10], yLim: [0, 10] },
    );
    const root = parseXml(svg);
    const legend = all(root, (e) => e.name === "g" && e.attrs.class === "legend")[0]!;
    assert.deepEqual(
      all(legend, (e) => e.name === "text").map((e) => e.text),
      ["a", "b"],
    );
    const box = legend.children[0]!;
    const f = frame(root);
    assert.ok(Number(box.attrs.x) < (f.x0 + f.x1) / 2 || Number(box.attrs.y) > (f.y0 + f.y1) / 2, "not in the top-right corner");
    assert.ok(!plot({ y: [1, 2], label: "a" }, { legend: "none" }).includes('class="legend"'));
  });

  test("deterministic, and clear errors", () => {
    const args = [{ y: [3, 1, 2], label: "x" }] as const;
    assert.equal(plot(args), plot(args));
    assert.throws(() => plot([]), /no series/);
    assert.throws(() => plot({ x: [1, 2], y: [1, 2, 3], label: "s" }), /series 0 \("s"\) has 2 x values but 3 y values/);
    assert.throws(() => plot({ y: [1, 2] }, { yScale: "log", yLim: [0, 1] }), /log axis needs a positive range/);
    assert.throws(() => plot({ y: [1, 2] }, { xLim: [1, 1] }), /lo < hi/);
  });
});

describe("ticks", () => {
  test("niceTicks: round steps covering the range", () => {
    assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(-0.55, 2.05), [-0.5, 0, 0.5, 1, 1.5, 2]);
    assert.deepEqual(niceTicks(0, 1000), [0, 200, 400, 600, 800, 1000]);
    assert.deepEqual(niceTicks(3, 3), [3]);
  });

  test("formatTick: short labels", () => {
    assert.deepEqual([0, 0.1 + 0.2, 1e-3, 1e-4, 2.5e-7, 25000, 1.5e6, -2].map(formatTick), ["0", "0.3", "0.001", "1e-4", "2.5e-7", "25000", "1.5e6", "-2"]);
  });
});

describe("histogram", () => {
  test("histogramCounts follows NumPy: [lo, hi) bins, the last one closed, outside and NaN not counted", () => {
    const { edges, counts } = histogramCounts([0, 0.25, 0.5, 1, 1, 2, -1, Number.NaN], 2, [0, 1]);
    assert.deepEqual(edges, [0, 0.5, 1]);
    assert.deepEqual(counts, [2, 3]);
    assert.throws(() => histogramCounts([1], 0, [0, 1]), /bins must be a positive integer/);
    assert.throws(() => histogramCounts([1], 3, [1, 1]), /lo < hi/);
  });

  test("one bar per non-empty bin, overlaid series, legend boxes", () => {
    const svg = histogram(
      [
        { values: [0.1, 0.1, 0.9], label: "a" },
        { values: [0.5], label: "b" },
      ],
      { bins: 4, range: [0, 1] },
    );
    const root = parseXml(svg);
    const groups = all(root, (e) => e.name === "g" && e.attrs["fill-opacity"] === "0.5");
    assert.deepEqual(
      groups.map((g) => g.children.length),
      [2, 1],
    );
    const f = frame(root);
    const tall = groups[0]!.children[0]!;
    assert.ok(Math.abs(Number(tall.attrs.y) + Number(tall.attrs.height) - f.y0) < 0.2, "bars stand on the axis");
    assert.deepEqual(
      all(root, (e) => e.name === "g" && e.attrs.class === "legend").flatMap((g) => all(g, (e) => e.name === "text").map((e) => e.text)),
      ["a", "b"],
    );
  });

  test("a plain array works; density scales the y axis", () => {
    const values = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const counts = texts(parseXml(histogram(values, { bins: 10 })));
    assert.ok(counts.includes("100"), "counts up to 100 per bin");
    const density = texts(parseXml(histogram(values, { bins: 10, density: true })));
    assert.ok(density.includes("1") && !density.includes("100"), "densities around 1");
  });
});

describe("imageGrid", () => {
  test("a tensor [N, 784] becomes N 28×28 images with captions; [N, 1, H, W] works too", () => {
    const x = tg.zeros([3, 784]);
    const root = parseXml(imageGrid(x, { columns: 2, labels: ["a", "b", "c"], scale: 2, title: "digits" }));
    const backgrounds = all(root, (e) => e.name === "rect" && e.attrs.fill === "#000000");
    assert.equal(backgrounds.length, 3);
    assert.deepEqual([backgrounds[0]!.attrs.width, backgrounds[0]!.attrs.height], ["56", "56"]);
    assert.deepEqual(texts(root), ["digits", "a", "b", "c"]);
    assert.equal(all(parseXml(imageGrid(tg.zeros([2, 1, 5, 7]))), (e) => e.name === "rect" && e.attrs.fill === "#000000")[0]!.attrs.width, "21");
  });

  test("grey levels: runs of equal pixels merge, values clamp to the range, NaN is red", () => {
    const svg = imageGrid([[0, 1, 1, 0.5, Number.NaN, 2]], { shape: [2, 3], scale: 1 });
    // pixel runs: every rect with a position except the black image background
    const pixels = all(parseXml(svg), (e) => e.name === "rect" && "x" in e.attrs && e.attrs.fill !== "#000000");
    assert.deepEqual(
      pixels.map((p) => [p.attrs.y, p.attrs.width, p.attrs.fill]),
      [
        ["4", "2", "#ffffff"], // row 0: 0 stays black, then a run of two 1s
        ["5", "1", "#828282"], // row 1: 0.5 → level 32/63
        ["5", "1", "#ff0000"], //        NaN
        ["5", "1", "#ffffff"], //        2, clamped to 1
      ],
    );
  });

  test("errors name the problem", () => {
    assert.throws(() => imageGrid([[1, 2, 3]]), /not square; pass \{ shape: \[h, w\] \}/);
    assert.throws(() => imageGrid([[1, 2, 3]], { shape: [2, 2] }), /3 pixels do not have shape \[2, 2\]/);
    assert.throws(() => imageGrid([]), /no images/);
  });
});

describe("figure", () => {
  test("panels side by side in a grid, each a positioned nested <svg>", () => {
    const a = plot({ y: [1, 2] }, { width: 300, height: 200 });
    const b = plot({ y: [2, 1] }, { width: 200, height: 250 });
    const root = parseXml(figure([a, b, a], { columns: 2, title: "F" }));
    assert.deepEqual([root.attrs.width, root.attrs.height], ["500", String(26 + 250 + 200)]);
    const nested = root.children.filter((e) => e.name === "svg");
    assert.deepEqual(
      nested.map((e) => [e.attrs.x, e.attrs.y]),
      [
        ["0", "26"],
        ["300", "26"],
        ["0", "276"],
      ],
    );
    assert.throws(() => figure([]), /no panels/);
    assert.throws(() => figure(["<g/>"]), /numeric width and height/);
  });

  test("renders to PNG at twice the size", async () => {
    const png = await tg.viz.svgToPng(figure([plot({ y: [1, 3, 2], label: "a" }, { width: 200, height: 120 })]));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(png.buffer, png.byteOffset);
    assert.deepEqual([view.getUint32(16), view.getUint32(20)], [400, 240]);
  });
});
