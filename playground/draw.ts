/** @file The drawing pad: pointer strokes (mouse, touch, pen) on a black canvas, read back as ink in [0, 1]. */

export class DrawingPad {
  private last: [number, number] | null = null;

  /** `onChange` runs after each stroke segment and on clear. */
  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onChange: () => void,
  ) {
    const c = canvas.getContext("2d", { willReadFrequently: true })!;
    const at = (e: PointerEvent): [number, number] => {
      const r = canvas.getBoundingClientRect();
      return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
    };
    canvas.addEventListener("pointerdown", (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.last = at(e);
      this.segment(c, this.last, this.last);
      e.preventDefault();
    });
    canvas.addEventListener("pointermove", (e) => {
      if (this.last === null) return;
      const p = at(e);
      this.segment(c, this.last, p);
      this.last = p;
    });
    const end = () => {
      this.last = null;
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("keydown", (e) => {
      if (e.key === "Delete" || e.key === "Backspace" || e.key === "Escape") this.clear();
    });
    this.clear();
  }

  private segment(c: CanvasRenderingContext2D, a: [number, number], b: [number, number]): void {
    c.strokeStyle = "white";
    c.lineWidth = this.canvas.width / 11;
    c.lineCap = "round";
    c.lineJoin = "round";
    c.beginPath();
    c.moveTo(a[0], a[1]);
    c.lineTo(b[0], b[1]);
    c.stroke();
    this.onChange();
  }

  clear(): void {
    const c = this.canvas.getContext("2d")!;
    c.fillStyle = "black";
    c.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.onChange();
  }

  /** The ink, one value in [0, 1] per pixel (row-major). */
  ink(): Float32Array {
    const { width: w, height: h } = this.canvas;
    const rgba = this.canvas.getContext("2d")!.getImageData(0, 0, w, h).data;
    const out = new Float32Array(w * h);
    for (let i = 0; i < out.length; i++) out[i] = rgba[4 * i]! / 255;
    return out;
  }
}
