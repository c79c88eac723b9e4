/**
 * @file The derivative demo's functions: a small fixed language of one variable (numbers, x, e, pi,
 * + − * / ^, parentheses, sin cos tan exp log sqrt tanh sigmoid relu abs) parsed into a function
 * of a tensor, so f′(x) comes from tensorgrad's autograd and, for comparison, from central
 * differences (`tg.numericalGrad`), in float64.
 */
import * as tg from "../src/index.ts";

type Value = tg.Tensor | number;
type Fn = (x: tg.Tensor) => Value;

const FUNCS: Record<string, (t: tg.Tensor) => tg.Tensor> = {
  sin: (t) => t.sin(),
  cos: (t) => t.cos(),
  tan: (t) => t.sin().div(t.cos()),
  exp: (t) => t.exp(),
  log: (t) => t.log(),
  sqrt: (t) => t.sqrt(),
  tanh: (t) => t.tanh(),
  sigmoid: (t) => t.sigmoid(),
  relu: (t) => t.relu(),
  abs: (t) => t.abs(),
};
export const VOCABULARY = `x, numbers, e, pi, + − * / ^, ( ) and ${Object.keys(FUNCS).join(" ")}`;

const asTensor = (v: Value) => (typeof v === "number" ? tg.tensor([v], { dtype: "float64" }) : v);

function binary(op: string, a: Value, b: Value): Value {
  if (typeof a === "number" && typeof b === "number")
    return op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : op === "/" ? a / b : a ** b;
  const t = asTensor(a);
  return op === "+" ? t.add(b) : op === "-" ? t.sub(b) : op === "*" ? t.mul(b) : op === "/" ? t.div(b) : t.pow(b);
}

/** Parses `source`; throws an Error naming the position and what is allowed. */
export function parse(source: string): Fn {
  const tokens = source.match(/\d+\.?\d*(?:e[+-]?\d+)?|\.\d+|[a-z]+|\*\*|[-+*/^()]|\S/gi) ?? [];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} in ${JSON.stringify(source)}: write a function of x with ${VOCABULARY}`);
  };
  const peek = () => tokens[i];
  const take = (t?: string) => {
    if (t !== undefined && tokens[i] !== t) fail(i < tokens.length ? `expected "${t}" but found "${tokens[i]}"` : `expected "${t}" at the end`);
    return tokens[i++];
  };
  const expr = (): Fn => {
    let f = term();
    while (peek() === "+" || peek() === "-") {
      const op = take()!;
      const [a, b] = [f, term()];
      f = (x) => binary(op, a(x), b(x));
    }
    return f;
  };
  const term = (): Fn => {
    let f = unary();
    while (peek() === "*" || peek() === "/") {
      const op = take()!;
      const [a, b] = [f, unary()];
      f = (x) => binary(op, a(x), b(x));
    }
    return f;
  };
  const unary = (): Fn => {
    if (peek() === "-") {
      take();
      const a = unary();
      return (x) => binary("*", -1, a(x));
    }
    return power();
  };
  const power = (): Fn => {
    const base = atom();
    if (peek() !== "^" && peek() !== "**") return base;
    take();
    const exp = unary();
    return (x) => binary("^", base(x), exp(x));
  };
  const atom = (): Fn => {
    const t = take();
    if (t === undefined) return fail("the expression ends too early");
    if ("+*/^)".includes(t) || t === "**") return fail(`unexpected "${t}"`);
    if (/^[\d.]/.test(t)) {
      const n = Number(t);
      return Number.isFinite(n) ? () => n : fail(`"${t}" is not a number`);
    }
    if (t === "(") {
      const f = expr();
      take(")");
      return f;
    }
    const name = t.toLowerCase();
    if (name === "x") return (x) => x;
    if (name === "e") return () => Math.E;
    if (name === "pi") return () => Math.PI;
    const fn = FUNCS[name];
    if (!fn) return fail(`unknown "${t}"`);
    take("(");
    const arg = expr();
    take(")");
    return (x) => fn(asTensor(arg(x)));
  };
  if (tokens.length === 0) fail("empty");
  const f = expr();
  if (i < tokens.length) fail(`unexpected "${tokens[i]}"`);
  return f;
}

/** f(x0), f′(x0) by autograd and by central differences. */
export function derivatives(source: string, x0: number): { f: number; auto: number; numeric: number } {
  const fn = parse(source);
  const scalar = (x: tg.Tensor) => asTensor(fn(x)).add(x.mul(0)).sum(); // keeps x in the graph when f is constant
  const x = tg.tensor([x0], { dtype: "float64", requiresGrad: true });
  const y = scalar(x);
  y.backward();
  const numeric = tg.numericalGrad(scalar, [tg.tensor([x0], { dtype: "float64" })])[0]!.item();
  return { f: y.item(), auto: x.grad!.item(), numeric };
}
