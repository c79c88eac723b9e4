/** @file A standalone SVG picture of the autograd graph behind a tensor, laid out with dagre (no Graphviz needed). */
import { Graph, layout } from "@dagrejs/dagre";
import type { Tensor } from "../tensor/tensor.ts";
import { NODE_COLORS, type RenderOptions } from "./dot.ts";
import { describeGraph, type GraphEdge, type GraphNode } from "./graph.ts";
import { px, xml } from "./xml.ts";

const FONT_FAMILY = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace";
/** Advance of one monospace character, in ems (DejaVu Sans Mono and Menlo: 0.602; Consolas: 0.55). */
const CHAR_EM = 0.61;
const TITLE_SIZE = 12;
const DETAIL_SIZE = 10.5;
const CONST_SIZE = 10;
const LINE_GAP = 1.3;
const PAD_X = 9;
const PAD_Y = 6;

interface Point {
  x: number;
  y: number;
}

interface Box {
  node: GraphNode;
  width: number;
  height: number;
  /** Font size of each label line. */
  sizes: number[];
  ellipse: boolean;
}

/** Columns a string takes in a monospace font: East Asian wide characters and emoji take two. */
function columns(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const wide =
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1f300 && c <= 0x1faff);
    n += wide ? 2 : 1;
  }
  return n;
}

function measure(node: GraphNode): Box {
  const ellipse = node.kind === "constant";
  const sizes = node.label.map((_, i) => (ellipse ? CONST_SIZE : i === 0 ? TITLE_SIZE : DETAIL_SIZE));
  const textW = Math.max(...node.label.map((l, i) => columns(l) * CHAR_EM * sizes[i]!));
  const textH = sizes.reduce((h, s) => h + s * LINE_GAP, 0);
  if (ellipse) {
    // an ellipse around the text box, a little wider than tall so short labels ("2") stay round
    return { node, sizes, ellipse, width: Math.max(textW * 1.2 + 10, 26), height: Math.max(textH * 1.25 + 4, 18) };
  }
  return { node, sizes, ellipse, width: Math.ceil(textW + 2 * PAD_X), height: Math.ceil(textH + 2 * PAD_Y) };
}

/** Where the ray from an ellipse's centre `c` towards `p` leaves the ellipse. */
function ellipseBoundary(c: Point, rx: number, ry: number, p: Point): Point {
  const dx = p.x - c.x;
  const dy = p.y - c.y;
  if (dx === 0 && dy === 0) return c;
  const t = 1 / Math.sqrt((dx * dx) / (rx * rx) + (dy * dy) / (ry * ry));
  return { x: c.x + dx * t, y: c.y + dy * t };
}

type Rankdir = NonNullable<RenderOptions["rankdir"]>;

/** Coordinates in which data flows down (+y), whatever the rank direction; `from` undoes `to`. */
function frameOf(rankdir: Rankdir): { to: (p: Point) => Point; from: (p: Point) => Point; swap: boolean } {
  switch (rankdir) {
    case "BT":
      return { to: (p) => ({ x: p.x, y: -p.y }), from: (p) => ({ x: p.x, y: -p.y }), swap: false };
    case "LR":
      return { to: (p) => ({ x: p.y, y: p.x }), from: (p) => ({ x: p.y, y: p.x }), swap: true };
    case "RL":
      return { to: (p) => ({ x: p.y, y: -p.x }), from: (p) => ({ x: -p.y, y: p.x }), swap: true };
    default:
      return { to: (p) => p, from: (p) => p, swap: false };
  }
}

/**
 * Where an edge leaves (`side` +1: the bottom) or enters (-1: the top) a box in the flow frame:
 * on that side, where the ray from the centre towards `p` crosses it, kept clear of the
 * rounded corners, so arrows meet boxes squarely instead of at their corners.
 */
function sidePoint(c: Point, hw: number, hh: number, p: Point, side: 1 | -1): Point {
  const y = c.y + side * hh;
  const dy = (p.y - c.y) * side;
  const x = dy > hh ? c.x + ((p.x - c.x) * hh) / dy : p.x;
  const inset = Math.min(8, hw / 2);
  return { x: Math.min(c.x + hw - inset, Math.max(c.x - hw + inset, x)), y };
}

/** A B-spline through the points (d3's curveBasis): it starts and ends on the end points, smooth between. */
function basisPath(p: readonly Point[]): string {
  const f = (q: Point) => `${px(q.x)},${px(q.y)}`;
  const mix = (a: Point, wa: number, b: Point, wb: number, c: Point, wc: number): Point => ({
    x: (a.x * wa + b.x * wb + c.x * wc) / (wa + wb + wc),
    y: (a.y * wa + b.y * wb + c.y * wc) / (wa + wb + wc),
  });
  if (p.length === 2) return `M${f(p[0]!)} L${f(p[1]!)}`;
  let d = `M${f(p[0]!)} L${f(mix(p[0]!, 5, p[1]!, 1, p[1]!, 0))}`;
  const seg = (x0: Point, x1: Point, x2: Point) =>
    ` C${f(mix(x0, 2, x1, 1, x1, 0))} ${f(mix(x0, 1, x1, 2, x1, 0))} ${f(mix(x0, 1, x1, 4, x2, 1))}`;
  for (let i = 2; i < p.length; i++) d += seg(p[i - 2]!, p[i - 1]!, p[i]!);
  const n = p.length;
  d += seg(p[n - 2]!, p[n - 1]!, p[n - 1]!);
  return `${d} L${f(p[n - 1]!)}`;
}

/** Ask dagre to keep each op's inputs left to right in argument order (`x` before `W` in `x @ W`). */
function inputOrder(edges: readonly GraphEdge[]): { left: string; right: string }[] {
  const byTarget = new Map<string, string[]>();
  for (const e of edges) {
    const ins = byTarget.get(e.to) ?? [];
    if (!ins.includes(e.from)) ins.push(e.from);
    byTarget.set(e.to, ins);
  }
  const seen = new Set<string>();
  const out: { left: string; right: string }[] = [];
  for (const ins of byTarget.values())
    for (let i = 1; i < ins.length; i++) {
      const [left, right] = [ins[i - 1]!, ins[i]!];
      if (seen.has(`${right} ${left}`) || seen.has(`${left} ${right}`)) continue;
      seen.add(`${left} ${right}`);
      out.push({ left, right });
    }
  return out;
}

function nodeSvg(box: Box, c: Point): string {
  const n = box.node;
  const col = NODE_COLORS[n.kind];
  const kindClass = `node ${n.kind}`;
  const tooltip = n.kind === "op" && n.attrs !== "" ? `${n.label.join(" ")} (${n.op}: ${n.attrs})` : n.label.join(" ");
  const parts = [`<g class="${kindClass}" id="${n.id}">`, `<title>${xml(tooltip)}</title>`];
  if (box.ellipse) {
    parts.push(
      `<ellipse cx="${px(c.x)}" cy="${px(c.y)}" rx="${px(box.width / 2)}" ry="${px(box.height / 2)}" fill="${col.fill}" stroke="${col.stroke}"/>`,
    );
  } else {
    parts.push(
      `<rect x="${px(c.x - box.width / 2)}" y="${px(c.y - box.height / 2)}" width="${px(box.width)}" height="${px(box.height)}" rx="4" ry="4" fill="${col.fill}" stroke="${col.stroke}"/>`,
    );
  }
  const total = box.sizes.reduce((h, s) => h + s * LINE_GAP, 0);
  let top = c.y - total / 2;
  n.label.forEach((line, i) => {
    const size = box.sizes[i]!;
    // baseline: centre of the line box plus about a third of an em (the x-height's middle)
    const baseline = top + (size * LINE_GAP) / 2 + size * 0.35;
    const fill = i === 0 ? col.text : box.ellipse ? col.text : "#333333";
    parts.push(
      `<text x="${px(c.x)}" y="${px(baseline)}" text-anchor="middle" font-size="${size}" fill="${fill}">${xml(line)}</text>`,
    );
    top += size * LINE_GAP;
  });
  parts.push("</g>");
  return parts.join("");
}

/**
 * A standalone SVG picture of the graph that produced `y` (same nodes and colours as
 * `graphToDot`), laid out in JavaScript with dagre, so no Graphviz is needed. Boxes are sized
 * to their text (monospace), edges are curves with arrowheads in the direction data flows,
 * and the same graph always gives the same string. Write it to a `.svg` file or inline it in HTML.
 *
 * @example
 * const x = tg.randn([4, 3]);
 * const W = tg.randn([3, 2], { requiresGrad: true });
 * const b = tg.zeros([2], { requiresGrad: true });
 * const loss = x.matmul(W).add(b).relu().sum();
 * const svg = tg.viz.graphToSvg(loss, { names: { x, W, b, loss } });
 * // import { writeFileSync } from "node:fs"; writeFileSync("graph.svg", svg);
 * svg.startsWith("<svg"); // true
 */
export function graphToSvg(y: Tensor | readonly Tensor[], opts: RenderOptions = {}): string {
  const desc = describeGraph(y, opts);
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: opts.rankdir ?? "TB", nodesep: 18, ranksep: 34, edgesep: 8, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const boxes = new Map<string, Box>();
  for (const n of desc.nodes) {
    const box = measure(n);
    boxes.set(n.id, box);
    g.setNode(n.id, { width: box.width, height: box.height });
  }
  desc.edges.forEach((e, i) => {
    g.setEdge(e.from, e.to, {}, `e${i}`);
  });
  try {
    layout(g, { constraints: inputOrder(desc.edges) });
  } catch (err) {
    // dagre recurses along paths; chains of a few thousand ops exhaust the stack
    if (err instanceof RangeError)
      throw new Error(
        `graphToSvg: the graph (${desc.nodes.length} nodes) is too deep to lay out in JavaScript; use graphToDot and Graphviz for graphs this large`,
        { cause: err },
      );
    throw err;
  }

  const graphLabel = g.graph() as { width?: number; height?: number };
  const width = Math.ceil(graphLabel.width ?? 0);
  const height = Math.ceil(graphLabel.height ?? 0);
  const center = (id: string): Point => {
    const l = g.node(id) as Point;
    return { x: l.x, y: l.y };
  };

  // Edges leave the bottom of a box and enter the top of the next (in the flow direction),
  // through dagre's waypoints; parallel edges (x * x) are drawn side by side.
  const frame = frameOf(opts.rankdir ?? "TB");
  const parallel = new Map<string, number>();
  for (const e of desc.edges) parallel.set(`${e.from} ${e.to}`, (parallel.get(`${e.from} ${e.to}`) ?? 0) + 1);
  const seenParallel = new Map<string, number>();
  const edgeSvg = desc.edges.map((e, i) => {
    const key = `${e.from} ${e.to}`;
    const k = parallel.get(key)!;
    const j = seenParallel.get(key) ?? 0;
    seenParallel.set(key, j + 1);
    const shift = (j - (k - 1) / 2) * 8;
    const raw = (g.edge(e.from, e.to, `e${i}`) as { points?: Point[] }).points ?? [];
    const via = raw.slice(1, -1).map((p) => {
      const q = frame.to(p);
      return { x: q.x + shift, y: q.y };
    });
    const ends = [e.from, e.to].map((id) => {
      const box = boxes.get(id)!;
      const [hw, hh] = frame.swap ? [box.height / 2, box.width / 2] : [box.width / 2, box.height / 2];
      return { c: frame.to(center(id)), hw, hh, ellipse: box.ellipse };
    });
    const [s, t] = ends as [(typeof ends)[0], (typeof ends)[0]];
    const toward = (q: Point) => ({ x: q.x + shift, y: q.y });
    const next = via[0] ?? toward(t.c);
    const prev = via[via.length - 1] ?? toward(s.c);
    const a = s.ellipse ? ellipseBoundary(s.c, s.hw, s.hh, next) : sidePoint(toward(s.c), s.hw, s.hh, next, 1);
    const b = t.ellipse ? ellipseBoundary(t.c, t.hw, t.hh, prev) : sidePoint(toward(t.c), t.hw, t.hh, prev, -1);
    // short straight stubs make the curve leave and arrive along the flow direction
    const stub = Math.max(0, Math.min(10, (b.y - a.y) / 4));
    let d: string;
    if (via.length <= 1) {
      // adjacent ranks (dagre's one waypoint sits halfway): one S-curve, vertical at both ends
      const m = (a.y + b.y) / 2;
      const [c1, c2, a2, b2] = [{ x: a.x, y: m }, { x: b.x, y: m }, a, b].map(frame.from) as [Point, Point, Point, Point];
      d = `M${px(a2.x)},${px(a2.y)} C${px(c1.x)},${px(c1.y)} ${px(c2.x)},${px(c2.y)} ${px(b2.x)},${px(b2.y)}`;
    } else {
      d = basisPath([a, { x: a.x, y: a.y + stub }, ...via, { x: b.x, y: b.y - stub }, b].map(frame.from));
    }
    return `<path class="edge" d="${d}" fill="none" stroke="#555555" stroke-width="1.2" marker-end="url(#tg-arrow)"/>`;
  });
  const nodeSvgs = desc.nodes.map((n) => nodeSvg(boxes.get(n.id)!, center(n.id)));

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${xml(FONT_FAMILY)}">`,
    "<title>tensorgrad autograd graph</title>",
    '<defs><marker id="tg-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555555"/></marker></defs>',
    `<rect class="background" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<g class="edges">${edgeSvg.join("")}</g>`,
    `<g class="nodes">${nodeSvgs.join("")}</g>`,
    "</svg>",
    "",
  ].join("\n");
}
