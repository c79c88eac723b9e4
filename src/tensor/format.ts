/** @file PyTorch-style printing: `tensor([[1., 2.], [3., 4.]], requires_grad=True)`. */
import type { Tensor } from "./tensor.ts";

const LINE_WIDTH = 80;
const EDGE_ITEMS = 3;
const SUMMARIZE_ABOVE = 1000;

/** How every element of a tensor is written, chosen once from all its values (as PyTorch does). */
function elementFormatter(values: ArrayLike<number>, dtype: Tensor["dtype"]): (v: number) => string {
  if (dtype === "bool") return (v) => (v ? "True" : "False");
  if (dtype === "int32") return (v) => String(v);
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) finite.push(Math.abs(values[i]!));
  const special = (v: number) => (Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf");
  const nonZero = finite.filter((v) => v !== 0);
  const intMode = finite.every((v) => Number.isInteger(v));
  const maxAbs = nonZero.length ? Math.max(...nonZero) : 0;
  const minAbs = nonZero.length ? Math.min(...nonZero) : 0;
  const sci = nonZero.length > 0 && (maxAbs / minAbs > 1000 || maxAbs > 1e8 || (!intMode && minAbs < 1e-4));
  if (sci) {
    return (v) => {
      if (!Number.isFinite(v)) return special(v);
      const [m, e] = v.toExponential(4).split("e") as [string, string];
      const exp = Number(e);
      return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
    };
  }
  if (intMode) return (v) => (Number.isFinite(v) ? `${v.toFixed(0)}.` : special(v));
  return (v) => (Number.isFinite(v) ? v.toFixed(4) : special(v));
}

/** Formats a tensor's values and suffixes exactly in PyTorch's layout. */
export function formatTensor(t: Tensor): string {
  const data = t.dataSync();
  const summarize = data.length > SUMMARIZE_ABOVE;
  const shown = summarize ? summarizedValues(data) : data;
  const fmt = elementFormatter(shown, t.dtype);
  const width = Math.max(1, ...Array.from(shown, (v) => fmt(Number(v)).length));
  const cell = (v: number) => fmt(v).padStart(width);
  const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const prefix = "tensor(";

  const render = (dim: number, offset: number, indent: number): string => {
    if (dim === t.ndim) return cell(Number(data[offset]));
    const n = t.shape[dim]!;
    const idx = summarize && n > 2 * EDGE_ITEMS ? [0, 1, 2, -1, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i);
    const parts = idx.map((i) => (i === -1 ? "..." : render(dim + 1, offset + i * strides[dim]!, indent + 1)));
    if (dim === t.ndim - 1) {
      // wrap long rows at the line width
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < parts.length; i += perLine) lines.push(parts.slice(i, i + perLine).join(", "));
      return `[${lines.join(`,\n${" ".repeat(indent + 1)}`)}]`;
    }
    const sep = `,${"\n".repeat(t.ndim - dim - 1)}${" ".repeat(indent + 1)}`;
    return `[${parts.join(sep)}]`;
  };

  let body: string;
  const suffixes: string[] = [];
  if (t.numel() === 0) {
    body = "[]";
    if (t.ndim !== 1) suffixes.push(`size=(${t.shape.join(", ")}${t.ndim === 1 ? "," : ""})`);
  } else {
    body = render(0, 0, prefix.length);
  }
  if (t.dtype === "float64") suffixes.push("dtype=float64");
  if (t.gradFn !== null) suffixes.push(`grad_fn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) suffixes.push("requires_grad=True");
  return `${prefix}${[body, ...suffixes].join(", ")})`;
}

/** The values that stay visible when a large tensor is summarised (for choosing the number format). */
function summarizedValues(data: ArrayLike<number>): number[] {
  const out: number[] = [];
  const n = data.length;
  for (let i = 0; i < Math.min(n, EDGE_ITEMS * 50); i++) out.push(Number(data[i]));
  for (let i = Math.max(0, n - EDGE_ITEMS * 50); i < n; i++) out.push(Number(data[i]));
  return out;
}
