/** @file Test helper: small, class-balanced subsets of the embedded MNIST digits (fast tests), and IDX files of them. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as tg from "../src/index.ts";

export interface Small {
  x: tg.Tensor;
  y: tg.Tensor;
  xTest: tg.Tensor;
  yTest: tg.Tensor;
}

/** `perClass` training digits of each class (class-sorted, as the embedded set) and every k-th test digit. */
export async function smallMnist(perClass = 50, testCount = 200): Promise<Small> {
  const train = await tg.datasets.mnist({ split: "train" });
  const test = await tg.datasets.mnist({ split: "test" });
  const rows: number[] = [];
  for (let c = 0; c < 10; c++) for (let i = 0; i < perClass; i++) rows.push(c * 800 + i);
  const idx = tg.tensor(Int32Array.from(rows), { dtype: "int32" });
  const step = Math.floor(test.x.shape[0]! / testCount);
  const tIdx = tg.tensor(Int32Array.from({ length: testCount }, (_, i) => i * step), { dtype: "int32" });
  return { x: train.x.index(idx), y: train.y.index(idx), xTest: test.x.index(tIdx), yTest: test.y.index(tIdx) };
}

function idxBytes(magic: number, dims: number[], data: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(head.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d);
  });
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

/** Writes x [N, 784] in [0, 1] and y [N] as MNIST-style IDX files (gzipped when `gzip`). */
export function writeIdx(dir: string, prefix: "train" | "t10k", x: tg.Tensor, y: tg.Tensor, gzip = false): void {
  const n = x.shape[0]!;
  const pixels = Uint8Array.from(x.dataSync(), (v) => Math.round(v * 255));
  const labels = Uint8Array.from(y.dataSync());
  const images = idxBytes(0x803, [n, 28, 28], pixels);
  const lbls = idxBytes(0x801, [n], labels);
  const ext = gzip ? ".gz" : "";
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte${ext}`), gzip ? gzipSync(images) : images);
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte${ext}`), gzip ? gzipSync(lbls) : lbls);
}

/** Largest absolute difference between two state dicts with the same keys (throws if keys differ). */
export function maxStateDiff(a: Record<string, tg.Tensor>, b: Record<string, tg.Tensor>): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.join() !== kb.join()) throw new Error(`state dict keys differ: ${ka} vs ${kb}`);
  let m = 0;
  for (const k of ka) {
    const x = a[k]!.to("float64").dataSync();
    const y = b[k]!.to("float64").dataSync();
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  }
  return m;
}

const VOID_HTML = new Set(["meta", "br", "img", "link", "input", "hr", "col", "source", "wbr"]);

/** A minimal well-formedness check: every tag closes in order (comments, CDATA, declarations skipped; HTML void elements with `html`). */
export function assertWellFormedXml(text: string, opts: { html?: boolean } = {}): void {
  const stack: string[] = [];
  const re = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<![^>]*>|<\?[\s\S]*?\?>|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'))?)*)\s*(\/?)>/g;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(text)) !== null) {
    const between = text.slice(last, m.index);
    if (between.includes("<")) throw new Error(`stray < near: ${between.slice(0, 80)}`);
    last = re.lastIndex;
    if (m[2] === undefined) continue;
    const [, closing, name, , selfClosing] = m;
    if (selfClosing || (opts.html && VOID_HTML.has(name!.toLowerCase()))) continue;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else stack.push(name!);
  }
  if (stack.length > 0) throw new Error(`unclosed tags: ${stack.join(", ")}`);
}
