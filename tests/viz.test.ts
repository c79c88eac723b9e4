/** @file tg.viz: the graph description, DOT text (checked by Graphviz when installed) and the dagre-laid-out SVG. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import * as tg from "../src/index.ts";
import { all, parseXml, unescapeXml } from "./xml.ts";

const { describeGraph, graphToDot, graphToSvg } = tg.viz;

/** z = (u + v) * (u − v) with named leaves. */
function uvGraph() {
  const u = tg.tensor([1, 2], { requiresGrad: true });
  const v = tg.tensor([3, 4], { requiresGrad: true });
  return { u, v, z: u.add(v).mul(u.sub(v)) };
}

/** x·W1+b1 → relu → ·W2+b2 → softmax → sum, the picture users draw first. */
function mlpGraph() {
  tg.manualSeed(0);
  const x = tg.randn([4, 3]);
  const W1 = tg.randn([3, 5], { requiresGrad: true });
  const b1 = tg.zeros([5], { requiresGrad: true });
  const W2 = tg.randn([5, 2], { requiresGrad: true });
  const b2 = tg.zeros([2], { requiresGrad: true });
  const loss = x.matmul(W1).add(b1).relu().matmul(W2).add(b2).softmax(1).sum();
  return { x, W1, b1, W2, b2, loss };
}

/** DOT node statements → { id: label lines }, edge statements → [from, to]; throws on anything else. */
function parseDot(dot: string): { labels: Map<string, string[]>; edges: [string, string][] } {
  const lines = dot.trimEnd().split("\n");
  assert.match(lines[0]!, /^digraph \w+ \{$/);
  assert.equal(lines[lines.length - 1], "}");
  const labels = new Map<string, string[]>();
  const edges: [string, string][] = [];
  for (const line of lines.slice(1, -1)) {
    if (/^ {2}(graph|node|edge) \[.*\];$/.test(line)) continue;
    const edge = /^ {2}(n\d+) -> (n\d+);$/.exec(line);
    if (edge) {
      edges.push([edge[1]!, edge[2]!]);
      continue;
    }
    // a node: every quoted string well formed (only \\ \" \n escapes), the label first
    const node = /^ {2}(n\d+) \[label="((?:[^"\\]|\\[\\"n])*)"(?:, \w+=(?:"(?:[^"\\]|\\[\\"n])*"|[\w.]+))*\];$/.exec(line);
    assert.ok(node, `not a DOT statement: ${line}`);
    const label = node[2]!.split("\\n").map((l) => l.replace(/\\(["\\])/g, "$1"));
    labels.set(node[1]!, label);
  }
  for (const [a, b] of edges) assert.ok(labels.has(a) && labels.has(b), `edge ${a} -> ${b} to an undeclared node`);
  return { labels, edges };
}

/** Edges as "first label line -> first label line", sorted. */
function namedEdges(dot: string): string[] {
  const { labels, edges } = parseDot(dot);
  return edges.map(([a, b]) => `${labels.get(a)![0]} -> ${labels.get(b)![0]}`).sort();
}


describe("describeGraph", () => {
  test("(u+v)*(u−v): two leaves, three ops, one output, seven edges; u and v appear once", () => {
    const { u, v, z } = uvGraph();
    const g = describeGraph(z, { names: { u, v } });
    assert.deepEqual(
      g.nodes.map((n) => [n.kind, n.label[0]]),
      [
        ["leaf", "u"],
        ["leaf", "v"],
        ["op", "AddBackward0"],
        ["op", "SubBackward0"],
        ["op", "MulBackward0"],
        ["output", "output"],
      ],
    );
    assert.equal(g.edges.length, 7);
    const mul = g.nodes.find((n) => n.kind === "op" && n.op === "mul");
    assert.ok(mul && mul.kind === "op");
    assert.equal(mul.backward, "MulBackward0");
    assert.deepEqual(mul.shape, [2]);
    assert.equal(mul.dtype, "float32");
    assert.deepEqual(g.outputs, [g.nodes[5]!.id]);
    const leaf = g.nodes[0]!;
    assert.ok(leaf.kind === "leaf" && leaf.requiresGrad && leaf.name === "u");
    assert.deepEqual(leaf.label, ["u", "[2] float32", "requires_grad"]);
  });

  test("a shared sub-graph appears once, with one edge to each consumer (a DAG, not a tree)", () => {
    const x = tg.tensor([[1, 2]], { requiresGrad: true });
    const W = tg.tensor([[3], [4]], { requiresGrad: true });
    const h = x.matmul(W);
    const y = h.exp().add(h.mul(h)).sum();
    const g = describeGraph(y, { names: { x, W, h } });
    const matmuls = g.nodes.filter((n) => n.kind === "op" && n.op === "matmul");
    assert.equal(matmuls.length, 1);
    assert.deepEqual(matmuls[0]!.label, ["MatmulBackward0", "h: [1, 1]"]);
    const outOfH = g.edges.filter((e) => e.from === matmuls[0]!.id);
    assert.equal(outOfH.length, 3); // exp, and both inputs of h * h
    const mulId = g.nodes.find((n) => n.kind === "op" && n.op === "mul")!.id;
    assert.deepEqual(
      g.edges.filter((e) => e.to === mulId).map((e) => [e.from, e.input]),
      [
        [matmuls[0]!.id, 0],
        [matmuls[0]!.id, 1],
      ],
    );
    // every node is either an output or feeds something; ids are unique
    assert.equal(new Set(g.nodes.map((n) => n.id)).size, g.nodes.length);
    assert.equal(g.nodes.filter((n) => n.kind === "leaf").length, 2);
  });

  test("a leaf-only tensor gives a one-node graph", () => {
    const w = tg.tensor([1, 2, 3], { requiresGrad: true });
    const g = describeGraph(w, { names: { w } });
    assert.equal(g.nodes.length, 1);
    assert.equal(g.edges.length, 0);
    assert.deepEqual(g.nodes[0]!.label, ["w", "[3] float32", "requires_grad"]);
    const plain = describeGraph(tg.noGrad(() => w.mul(2)));
    assert.equal(plain.nodes.length, 1);
    assert.equal(plain.nodes[0]!.kind, "output");
    const dot = graphToDot(w);
    assert.equal(parseDot(dot).labels.size, 1);
    assert.ok(!dot.includes("->"));
    const svg = parseXml(graphToSvg(w));
    assert.equal(all(svg, (e) => e.name === "g" && (e.attrs.class ?? "").startsWith("node ")).length, 1);
    assert.equal(all(svg, (e) => e.name === "path" && e.attrs.class === "edge").length, 0);
  });

  test("constants: numbers and tensors that do not require grad are small grey nodes", () => {
    const x = tg.tensor([1, 2, 3], { requiresGrad: true });
    const g = describeGraph(x.mul(0.1).add(tg.ones([3])).sum());
    const consts = g.nodes.filter((n) => n.kind === "constant");
    assert.deepEqual(
      consts.map((n) => n.label),
      [["0.1"], ["const", "[3]"]],
    );
    assert.ok(consts[0]!.kind === "constant" && Math.abs((consts[0]!.value as number) - 0.1) < 1e-7);
    // softmax subtracts a detached max: a [4, 1] constant
    const { loss } = mlpGraph();
    const m = describeGraph(loss);
    assert.ok(m.nodes.some((n) => n.kind === "constant" && n.label.join(" ") === "const [4, 1]"));
    // named constants keep their value
    const eps = tg.tensor(0.5);
    const named = describeGraph(x.add(eps), { names: { eps } });
    assert.ok(named.nodes.some((n) => n.kind === "constant" && n.label[0] === "eps = 0.5"));
  });

  test("names as a Map or an object; showShapes and showAttrs", () => {
    const { x, W1, b1, W2, b2, loss } = mlpGraph();
    const asRecord = describeGraph(loss, { names: { x, W1, b1, W2, b2, loss } });
    const asMap = describeGraph(loss, {
      names: new Map<tg.Tensor, string>([
        [x, "x"],
        [W1, "W1"],
        [b1, "b1"],
        [W2, "W2"],
        [b2, "b2"],
        [loss, "loss"],
      ]),
    });
    assert.deepEqual(asMap, asRecord);
    const labels = asRecord.nodes.map((n) => n.label[0]);
    for (const name of ["x", "W1", "b1", "W2", "b2", "loss"]) assert.ok(labels.includes(name), name);
    // the output's name labels the output node, not the op before it as well
    assert.equal(asRecord.nodes.filter((n) => n.label.some((l) => l.includes("loss"))).length, 1);
    const bare = describeGraph(loss, { showShapes: false });
    for (const n of bare.nodes) for (const l of n.label) assert.ok(!l.includes("["), `shape in ${l}`);
    const withAttrs = describeGraph(loss, { showAttrs: true });
    assert.ok(withAttrs.nodes.some((n) => n.label.includes("axes=[1], keepdim=true")));
    assert.ok(withAttrs.nodes.some((n) => n.label.includes("axes=[0,1], keepdim=false")));
  });

  test("several outputs share their common part; non-float32 dtypes are printed on ops", () => {
    const a = tg.tensor([1, 2], { requiresGrad: true, dtype: "float64" });
    const h = a.exp();
    const s = h.sum();
    const g = describeGraph([s, h.mean(), s]);
    assert.equal(g.outputs.length, 2, "a repeated output is drawn once");
    assert.equal(g.nodes.filter((n) => n.kind === "op" && n.op === "exp").length, 1);
    const exp = g.nodes.find((n) => n.kind === "op" && n.op === "exp")!;
    assert.deepEqual(exp.label, ["ExpBackward0", "[2] float64"]);
  });

  test("graphs stay drawable after backward() freed them, and deep chains do not overflow the stack", () => {
    const { u, v, z } = uvGraph();
    z.sum().backward();
    assert.equal(namedEdges(graphToDot(z, { names: { u, v } })).length, 7);
    let deep = u;
    for (let i = 0; i < 5000; i++) deep = deep.mul(1);
    const g = describeGraph(deep);
    assert.equal(g.nodes.filter((n) => n.kind === "op").length, 5000);
  });

  test("the TSDoc example holds", () => {
    const x = tg.tensor([1, 2, 3], { requiresGrad: true });
    const g = describeGraph(x.mul(2).sum(), { names: { x } });
    assert.deepEqual(
      g.nodes.map((n) => n.label[0]),
      ["x", "2", "MulBackward0", "SumBackward0", "output"],
    );
  });
});

describe("graphToDot", () => {
  test("(u+v)*(u−v): the expected nodes, labels and exactly these edges", () => {
    const { u, v, z } = uvGraph();
    const dot = graphToDot(z, { names: { u, v } });
    const { labels } = parseDot(dot);
    assert.deepEqual(
      [...labels.values()].map((l) => l.join("|")).sort(),
      [
        "AddBackward0|[2]",
        "MulBackward0|[2]",
        "SubBackward0|[2]",
        "output|[2] float32",
        "u|[2] float32|requires_grad",
        "v|[2] float32|requires_grad",
      ],
    );
    assert.deepEqual(namedEdges(dot), [
      "AddBackward0 -> MulBackward0",
      "MulBackward0 -> output",
      "SubBackward0 -> MulBackward0",
      "u -> AddBackward0",
      "u -> SubBackward0",
      "v -> AddBackward0",
      "v -> SubBackward0",
    ]);
    assert.ok(dot.includes('label="MulBackward0\\n[2]"')); // the TSDoc example
    assert.match(dot, /rankdir=TB/);
    assert.match(graphToDot(z, { rankdir: "BT" }), /rankdir=BT/);
    // torchviz colours: leaves light blue, ops grey, the output green
    assert.match(dot, /label="u\\n\[2\] float32\\nrequires_grad", fillcolor="#add8e6"/);
    assert.match(dot, /label="MulBackward0\\n\[2\]", fillcolor="#d3d3d3"/);
    assert.match(dot, /label="output\\n\[2\] float32", fillcolor="#caff70"/);
  });

  test("x * x draws two edges from x; the MLP graph has every op once", () => {
    const x = tg.tensor([1, 2], { requiresGrad: true });
    assert.deepEqual(namedEdges(graphToDot(x.mul(x), { names: { x } })), ["MulBackward0 -> output", "x -> MulBackward0", "x -> MulBackward0"]);
    const { x: input, W1, b1, W2, b2, loss } = mlpGraph();
    const dot = graphToDot(loss, { names: { x: input, W1, b1, W2, b2 } });
    const { labels, edges } = parseDot(dot);
    const firsts = [...labels.values()].map((l) => l[0]);
    const count = (s: string) => firsts.filter((f) => f === s).length;
    assert.equal(count("MatmulBackward0"), 2);
    assert.equal(count("AddBackward0"), 2);
    assert.equal(count("ReluBackward0"), 1);
    assert.equal(count("ExpBackward0"), 1);
    assert.equal(count("SumBackward0"), 2);
    assert.equal(count("DivBackward0"), 1);
    assert.equal(labels.size, 17);
    assert.equal(edges.length, 17);
  });

  test("labels are escaped: quotes, backslashes and newlines in names", () => {
    const w = tg.tensor([1], { requiresGrad: true });
    const name = 'a"b\\c\nd<&>';
    const dot = graphToDot(w.mul(2), { names: new Map([[w, name]]) });
    const { labels } = parseDot(dot);
    assert.ok([...labels.values()].some((l) => l[0] === 'a"b\\c' && l[1] === "d<&>"));
  });

  const hasDot = spawnSync("dot", ["-V"]).status === 0;
  test("Graphviz accepts the DOT text", { skip: hasDot ? false : "graphviz `dot` is not installed" }, () => {
    const { x, W1, b1, W2, b2, loss } = mlpGraph();
    for (const dot of [graphToDot(loss, { names: { x, W1, b1, W2, b2, 'odd "name"\\': loss } }), graphToDot(uvGraph().z)]) {
      const r = spawnSync("dot", ["-Tsvg"], { input: dot, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      parseXml(r.stdout.replace(/<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--[\s\S]*?-->/g, ""));
    }
  });
});

describe("graphToSvg", () => {
  test("well-formed standalone SVG: a viewBox, one group per node, text for every op, one path per edge", () => {
    const { x, W1, b1, W2, b2, loss } = mlpGraph();
    const names = { x, W1, b1, W2, b2, loss };
    const src = graphToSvg(loss, { names });
    const svg = parseXml(src);
    assert.equal(svg.name, "svg");
    assert.equal(svg.attrs.xmlns, "http://www.w3.org/2000/svg");
    const [vx, vy, vw, vh] = svg.attrs.viewBox!.split(" ").map(Number) as [number, number, number, number];
    assert.deepEqual([vx, vy], [0, 0]);
    assert.ok(vw > 0 && vh > 0);
    assert.equal(Number(svg.attrs.width), vw);
    assert.equal(Number(svg.attrs.height), vh);

    const desc = describeGraph(loss, { names });
    const groups = all(svg, (e) => e.name === "g" && (e.attrs.class ?? "").startsWith("node "));
    assert.equal(groups.length, desc.nodes.length);
    for (const [i, n] of desc.nodes.entries()) {
      const gEl = groups[i]!;
      assert.equal(gEl.attrs.id, n.id);
      assert.equal(gEl.attrs.class, `node ${n.kind}`);
      const shapes = gEl.children.filter((c) => c.name === "rect" || c.name === "ellipse");
      assert.equal(shapes.length, 1);
      assert.equal(shapes[0]!.name, n.kind === "constant" ? "ellipse" : "rect");
      assert.deepEqual(
        gEl.children.filter((c) => c.name === "text").map((t) => unescapeXml(t.text)),
        n.label,
      );
      // every node lies inside the viewBox
      const r = shapes[0]!.attrs;
      const [left, top, w, h] =
        shapes[0]!.name === "rect"
          ? [Number(r.x), Number(r.y), Number(r.width), Number(r.height)]
          : [Number(r.cx) - Number(r.rx), Number(r.cy) - Number(r.ry), 2 * Number(r.rx), 2 * Number(r.ry)];
      assert.ok(left >= 0 && top >= 0 && left + w <= vw + 0.5 && top + h <= vh + 0.5, `${n.id} outside the viewBox`);
    }
    const texts = all(svg, (e) => e.name === "text").map((t) => unescapeXml(t.text));
    for (const n of desc.nodes) if (n.kind === "op") assert.ok(texts.includes(n.backward), n.backward);
    const paths = all(svg, (e) => e.name === "path" && e.attrs.class === "edge");
    assert.equal(paths.length, desc.edges.length);
    for (const p of paths) {
      assert.match(p.attrs.d!, /^M-?[\d.]+,-?[\d.]+( [LC](-?[\d.]+,-?[\d.]+ ?)+)+$/);
      assert.equal(p.attrs["marker-end"], "url(#tg-arrow)");
    }
    assert.equal(all(svg, (e) => e.name === "marker" && e.attrs.id === "tg-arrow").length, 1);
  });

  test("boxes are wide enough for their text (monospace advance ≤ 0.61 em)", () => {
    const { x, W1, b1, W2, b2, loss } = mlpGraph();
    const svg = parseXml(graphToSvg(loss, { names: { x, W1, b1, W2, b2, "a much longer name for the loss": loss }, showAttrs: true }));
    for (const gEl of all(svg, (e) => e.name === "g" && (e.attrs.class ?? "").startsWith("node "))) {
      const shape = gEl.children.find((c) => c.name === "rect" || c.name === "ellipse")!;
      const width = shape.name === "rect" ? Number(shape.attrs.width) : 2 * Number(shape.attrs.rx);
      for (const t of gEl.children.filter((c) => c.name === "text")) {
        const textWidth = [...unescapeXml(t.text)].length * 0.61 * Number(t.attrs["font-size"]);
        assert.ok(textWidth <= width, `"${t.text}" (${textWidth.toFixed(1)}) overflows its box (${width})`);
      }
    }
  });

  test("deterministic: the same graph gives the same string", () => {
    const a = mlpGraph();
    const b = mlpGraph();
    const first = graphToSvg(a.loss, { names: { x: a.x, W1: a.W1 } });
    assert.equal(graphToSvg(a.loss, { names: { x: a.x, W1: a.W1 } }), first);
    assert.equal(graphToSvg(b.loss, { names: { x: b.x, W1: b.W1 } }), first);
    assert.equal(graphToDot(b.loss), graphToDot(a.loss));
  });

  test("XML-escapes names and stays well-formed in every direction", () => {
    const w = tg.tensor([1, 2], { requiresGrad: true });
    const name = `<w & "v"> it's\u0001`;
    for (const rankdir of ["TB", "BT", "LR", "RL"] as const) {
      const src = graphToSvg(w.mul(w).add(1).sum(), { names: new Map([[w, name]]), rankdir });
      const svg = parseXml(src);
      assert.ok(src.includes("&lt;w &amp; &quot;v&quot;&gt; it&apos;s"));
      // w→mul twice, mul→add, 1→add, add→sum, sum→output
      assert.equal(all(svg, (e) => e.name === "path" && e.attrs.class === "edge").length, 6);
    }
  });

  test("the TSDoc example holds", () => {
    const x = tg.randn([4, 3]);
    const W = tg.randn([3, 2], { requiresGrad: true });
    const b = tg.zeros([2], { requiresGrad: true });
    const loss = x.matmul(W).add(b).relu().sum();
    const svg = graphToSvg(loss, { names: { x, W, b, loss } });
    assert.ok(svg.startsWith("<svg"));
    parseXml(svg);
  });
});
