/**
 * @file The lectures' gradient-descent demo: x ← x − η f′(x) on f(x) = x² or x² + e^(−x), drawn on
 * the curve for the learning rate η of a slider, with a verdict: too small, good, overshooting, or
 * diverging.
 */

interface Fn {
  f: (x: number) => number;
  df: (x: number) => number;
  /** The minimiser. */
  min: number;
  label: string;
}

/** The root of 2x − e^(−x) (Newton's method). */
function minimiser(): number {
  let x = 0.5;
  for (let i = 0; i < 30; i++) x -= (2 * x - Math.exp(-x)) / (2 + Math.exp(-x));
  return x;
}

const FUNCTIONS: Record<string, Fn> = {
  square: { f: (x) => x * x, df: (x) => 2 * x, min: 0, label: "f(x) = x²" },
  squareExp: { f: (x) => x * x + Math.exp(-x), df: (x) => 2 * x - Math.exp(-x), min: minimiser(), label: "f(x) = x² + e^(−x)" },
};

export const STEPS = 20;
const X0 = 3.5;

/** The iterates x₀ … x_STEPS (stopping early once they blow up). */
export function descend(fn: Fn, lr: number): number[] {
  const xs = [X0];
  for (let i = 0; i < STEPS; i++) {
    const x = xs.at(-1)!;
    if (!Number.isFinite(x) || Math.abs(x) > 1e6) break;
    xs.push(x - lr * fn.df(x));
  }
  return xs;
}

/** What the path did. */
export function verdict(fn: Fn, xs: number[]): "diverging" | "too large: it overshoots" | "too small: still far after 20 steps" | "good" {
  const d = xs.map((x) => Math.abs(x - fn.min));
  const last = d.at(-1)!;
  if (!(last < d[0]!)) return "diverging";
  const overshoots = xs.slice(1).some((x, i) => Math.sign(x - fn.min) !== Math.sign(xs[i]! - fn.min));
  if (overshoots && last > 1e-3) return "too large: it overshoots";
  return last > 0.05 * d[0]! ? "too small: still far after 20 steps" : "good";
}

export function setupDescent(canvas: HTMLCanvasElement, fnSelect: HTMLSelectElement, slider: HTMLInputElement, out: HTMLElement): void {
  const draw = () => {
    const fn = FUNCTIONS[fnSelect.value] ?? FUNCTIONS.square!;
    const lr = Number(slider.value);
    const xs = descend(fn, lr);
    const c = canvas.getContext("2d")!;
    const { width: W, height: H } = canvas;
    c.clearRect(0, 0, W, H);
    const x0 = -4;
    const x1 = 4;
    const yMax = Math.max(fn.f(x0), fn.f(x1));
    const X = (x: number) => ((x - x0) / (x1 - x0)) * W;
    const Y = (y: number) => H - 12 - (y / yMax) * (H - 24);
    c.strokeStyle = "#9ca3af";
    c.lineWidth = 2;
    c.beginPath();
    for (let i = 0; i <= 200; i++) {
      const x = x0 + ((x1 - x0) * i) / 200;
      if (i === 0) c.moveTo(X(x), Y(fn.f(x)));
      else c.lineTo(X(x), Y(fn.f(x)));
    }
    c.stroke();
    c.strokeStyle = "#ea580c";
    c.fillStyle = "#ea580c";
    c.lineWidth = 1.5;
    c.beginPath();
    xs.forEach((x, i) => {
      const p = [X(Math.max(x0 - 1, Math.min(x1 + 1, x))), Y(Math.min(yMax * 1.2, fn.f(x)))] as const;
      if (i === 0) c.moveTo(...p);
      else c.lineTo(...p);
    });
    c.stroke();
    for (const x of xs) if (Math.abs(x) <= x1) c.fillRect(X(x) - 3, Y(fn.f(x)) - 3, 6, 6);
    const last = xs.at(-1)!;
    out.textContent = `${fn.label}, η = ${lr.toFixed(2)}: ${verdict(fn, xs)} (x after ${xs.length - 1} steps: ${Math.abs(last) > 1e4 ? last.toExponential(1) : last.toFixed(4)}; minimum at ${fn.min.toFixed(4)})`;
  };
  fnSelect.addEventListener("change", draw);
  slider.addEventListener("input", draw);
  draw();
}
