/** @file PyTorch-style printing: `tensor([[1., 2.], [3., 4.]], requires_grad=True)`. */
import type { Tensor } from "./tensor.ts";

// PyTorch's default print options
const LINE_WIDTH = 80;
const EDGE_ITEMS = 3;
const SUMMARIZE_ABOVE = 1000;
const PRECISION = 4;

/**
 * Python's `'{:.Nf}'` / `'{:.Ne}'`: correctly rounded like JS's toFixed / toExponential, except
 * that an exact tie rounds half to even (0.03125 → "0.0312", where JS writes "0.0313"), and -0
 * keeps its sign.
 */
function pyFormat(v: number, mode: "f" | "e", digits: number): string {
  const sign = v < 0 || Object.is(v, -0) ? "-" : "";
  const a = Math.abs(v);
  let s = mode === "f" ? a.toFixed(digits) : a.toExponential(digits);
  const longer = mode === "f" ? a.toFixed(Math.min(100, digits + 25)) : a.toExponential(Math.min(100, digits + 25));
  const [mant] = longer.split("e") as [string];
  const rest = mant.slice(mant.length - 25);
  if (rest === `5${"0".repeat(24)}`) {
    // an exact tie: JS rounded up; Python keeps the even digit
    const kept = mant.slice(0, mant.length - 25);
    const last = Number(kept[kept.length - 1]);
    if (last % 2 === 0) s = mode === "f" ? kept.replace(/\.$/, "") : `${kept.replace(/\.$/, "")}e${longer.split("e")[1]}`;
  }
  if (mode === "e") {
    const [m, e] = s.split("e") as [string, string];
    const exp = Number(e);
    s = `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return sign + s;
}

/** How every element is written and the width they are padded to, chosen once from the shown values (PyTorch's `_Formatter`). */
function elementFormatter(values: readonly number[], dtype: Tensor["dtype"]): { fmt: (v: number) => string; width: number } {
  if (dtype === "bool" || dtype === "int32") {
    const fmt = dtype === "bool" ? (v: number) => (v ? "True" : "False") : (v: number) => String(v);
    return { fmt, width: Math.max(1, ...values.map((v) => fmt(v).length)) };
  }
  const special = (v: number) => (Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf");
  // like PyTorch, only the non-zero finite values choose the format and the width
  const nonZero = values.filter((v) => Number.isFinite(v) && v !== 0);
  if (nonZero.length === 0) return { fmt: (v) => (Number.isFinite(v) ? `${pyFormat(v, "f", 0)}.` : special(v)), width: 1 };
  const abs = nonZero.map(Math.abs);
  const maxAbs = Math.max(...abs);
  const minAbs = Math.min(...abs);
  const intMode = nonZero.every((v) => Number.isInteger(v));
  const sci = maxAbs / minAbs > 1000 || maxAbs > 1e8 || (!intMode && minAbs < 1e-4);
  const finite = sci
    ? (v: number) => pyFormat(v, "e", PRECISION)
    : intMode
      ? (v: number) => `${pyFormat(v, "f", 0)}.`
      : (v: number) => pyFormat(v, "f", PRECISION);
  const fmt = (v: number) => (Number.isFinite(v) ? finite(v) : special(v));
  return { fmt, width: Math.max(1, ...nonZero.map((v) => fmt(v).length)) };
}

/** PyTorch's `_add_suffixes`: `, suffix` on the same line while it fits in the line width, else on a new line. */
function addSuffixes(body: string, suffixes: readonly string[], indent: number): string {
  let out = body;
  // (sic) PyTorch measures the last line as len − rfind("\n") + 1
  let lastLineLen = body.length - body.lastIndexOf("\n") + 1;
  for (const s of suffixes) {
    if (lastLineLen + s.length + 2 > LINE_WIDTH) {
      out += `,\n${" ".repeat(indent)}${s}`;
      lastLineLen = indent + s.length;
    } else {
      out += `, ${s}`;
      lastLineLen += s.length + 2;
    }
  }
  return `${out})`;
}

/** Formats a tensor's values and suffixes exactly in PyTorch's layout. */
export function formatTensor(t: Tensor): string {
  const data = t.dataSync();
  const summarize = data.length > SUMMARIZE_ABOVE;
  const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const prefix = "tensor(";
  const indices = (dim: number): number[] => {
    const n = t.shape[dim]!;
    if (summarize && n > 2 * EDGE_ITEMS) return [0, 1, 2, -1, n - 3, n - 2, n - 1];
    return Array.from({ length: n }, (_, i) => i);
  };

  // the values that stay visible (PyTorch's get_summarized_data) choose the number format
  const shown: number[] = [];
  const collect = (dim: number, offset: number): void => {
    if (dim === t.ndim) {
      shown.push(Number(data[offset]));
      return;
    }
    for (const i of indices(dim)) if (i >= 0) collect(dim + 1, offset + i * strides[dim]!);
  };
  if (data.length > 0) collect(0, 0);
  const { fmt, width } = elementFormatter(shown, t.dtype);
  const cell = (v: number) => fmt(v).padStart(width);

  const render = (dim: number, offset: number, indent: number): string => {
    if (dim === t.ndim) return cell(Number(data[offset]));
    const idx = indices(dim);
    if (dim === t.ndim - 1) {
      // a row: " ..." counts as one element when wrapping at the line width
      const parts = idx.map((i) => (i === -1 ? " ..." : cell(Number(data[offset + i * strides[dim]!]))));
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < parts.length; i += perLine) lines.push(parts.slice(i, i + perLine).join(", "));
      return `[${lines.join(`,\n${" ".repeat(indent + 1)}`)}]`;
    }
    const parts = idx.map((i) => (i === -1 ? "..." : render(dim + 1, offset + i * strides[dim]!, indent + 1)));
    const sep = `,${"\n".repeat(t.ndim - dim - 1)}${" ".repeat(indent + 1)}`;
    return `[${parts.join(sep)}]`;
  };

  let body: string;
  const suffixes: string[] = [];
  if (t.numel() === 0) {
    body = "[]";
    if (t.ndim !== 1) suffixes.push(`size=(${t.shape.join(", ")}${t.ndim === 1 ? "," : ""})`);
    // with no elements to show, any dtype but the default is named
    if (t.dtype !== "float32") suffixes.push(`dtype=${t.dtype}`);
  } else {
    body = render(0, 0, prefix.length);
    if (t.dtype === "float64") suffixes.push("dtype=float64");
  }
  if (t.gradFn !== null) suffixes.push(`grad_fn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) suffixes.push("requires_grad=True");
  return addSuffixes(`${prefix}${body}`, suffixes, prefix.length);
}
