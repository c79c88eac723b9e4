/** @file A small line chart on a canvas: training vs validation series over epochs, redrawn as points arrive. */

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

const COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#854d0e"];

export class LineChart {
  readonly series: Series[];
  /** x range ends at this (the number of epochs). */
  xMax = 1;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly opts: { yMin?: number; yMax?: number; format: (v: number) => string; names?: string[] },
  ) {
    this.series = [];
    this.setSeries(opts.names ?? ["training", "validation"]);
  }

  /** Replaces the series (empty) with these names. */
  setSeries(names: readonly string[]): void {
    this.series.length = 0;
    names.forEach((name, k) => {
      this.series.push({ name, color: COLORS[k % COLORS.length]!, points: [] });
    });
  }

  clear(xMax: number): void {
    this.xMax = xMax;
    for (const s of this.series) s.points = [];
    this.draw();
  }

  add(series: number, x: number, y: number): void {
    if (Number.isFinite(y)) this.series[series]!.points.push([x, y]);
    this.draw();
  }

  draw(): void {
    const c = this.canvas.getContext("2d")!;
    const { width: W, height: H } = this.canvas;
    const pad = { l: 48, r: 12, t: 10, b: 28 };
    c.clearRect(0, 0, W, H);
    const ys = this.series.flatMap((s) => s.points.map((p) => p[1]));
    let lo = this.opts.yMin ?? (ys.length ? Math.min(...ys) : 0);
    let hi = this.opts.yMax ?? (ys.length ? Math.max(...ys) : 1);
    if (this.opts.yMin === undefined) lo = lo >= 0 ? Math.max(0, lo - 0.05 * (hi - lo)) : lo - 0.05 * (hi - lo);
    if (ys.length && this.opts.yMin !== undefined) lo = Math.min(lo, Math.floor(Math.min(...ys) * 10) / 10);
    if (hi - lo < 1e-6) hi = lo + 1;
    const X = (x: number) => pad.l + (x / this.xMax) * (W - pad.l - pad.r);
    const Y = (y: number) => H - pad.b - ((y - lo) / (hi - lo)) * (H - pad.t - pad.b);
    c.strokeStyle = "#d6dae0";
    c.fillStyle = "#5b6470";
    c.font = "11px system-ui, sans-serif";
    c.lineWidth = 1;
    c.beginPath();
    for (let i = 0; i <= 4; i++) {
      const v = lo + ((hi - lo) * i) / 4;
      c.moveTo(pad.l, Y(v));
      c.lineTo(W - pad.r, Y(v));
      c.fillText(this.opts.format(v), 4, Y(v) + 4);
    }
    const step = Math.max(1, Math.ceil(this.xMax / 10));
    for (let e = 0; e <= this.xMax; e += step) c.fillText(String(e), X(e) - 3, H - pad.b + 14);
    c.stroke();
    c.fillText("epoch", W - pad.r - 32, H - 4);
    this.series.forEach((s, k) => {
      c.strokeStyle = s.color;
      c.fillStyle = s.color;
      c.lineWidth = 2;
      c.beginPath();
      s.points.forEach(([x, y], i) => {
        if (i === 0) c.moveTo(X(x), Y(y));
        else c.lineTo(X(x), Y(y));
      });
      c.stroke();
      if (k === 1 && this.series.length === 2) for (const [x, y] of s.points) c.fillRect(X(x) - 2, Y(y) - 2, 4, 4);
      const lx = W - pad.r - 210 + (k % 2) * 105;
      const ly = pad.t + 2 + 12 * Math.floor(k / 2);
      c.fillRect(lx, ly, 10, 3);
      c.fillText(s.name, lx + 14, ly + 5);
    });
  }
}
