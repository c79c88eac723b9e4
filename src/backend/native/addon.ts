/**
 * @file Loads the native addon (native/build/Release/tensorgrad_native.node) if it was built and
 * loads here, and otherwise records why not; describes its exports. Loading never throws.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** The addon's exports (native/src/addon.cc). */
export interface NativeAddon {
  /**
   * p = [batch, M, N, K, aOffset, sab, sam, sak, bOffset, sbb, sbk, sbn]; writes c = a·b (batch·M·N).
   * With `bias` (an array, or null for none) p has 15 numbers, the last [biasOffset, biasStride,
   * relu]: then c + bias on every row, then relu when relu ≠ 0 (the fused linear layer).
   */
  sgemm(a: Float32Array, b: Float32Array, c: Float32Array, p: Float64Array, bias?: Float32Array | null): void;
  /** p = [N, K, wOffset, swn, swk]: a new buffer holding W [N, K] packed for linearPacked (the selected kernel's B slivers). */
  packLinear(w: Float32Array, p: Float64Array): ArrayBuffer;
  /** out [M, N] = x·Wᵀ + bias, then relu; p = [M, xOffset, sxm, sxk, biasOffset, biasStride, relu]; bit-identical to sgemm's fused linear. */
  linearPacked(x: Float32Array, packed: ArrayBuffer, bias: Float32Array | null, out: Float32Array, p: Float64Array): void;
  /** out = a op b over broadcast strided views; p = [nd, aOffset, bOffset, shape…, aStrides…, bStrides…]; op 12 is a·(b > 0 ? 1 : 0). */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array | Uint8Array, p: Float64Array): void;
  /** p = [nd, offset, shape…, strides…]. */
  unary(op: number, x: Float32Array, out: Float32Array, p: Float64Array): void;
  /** float32 or bool (Uint8Array) → float32. */
  copy(x: Float32Array | Uint8Array, out: Float32Array, p: Float64Array): void;
  /** p = [offset, N, C, H, W, 4 strides, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo]. */
  im2col(x: Float32Array, out: Float32Array, p: Float64Array): void;
  /** p = [offset, N, C, H, W, 3 strides of the columns, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo]. */
  col2im(cols: Float32Array, out: Float32Array, p: Float64Array): void;
  /** p = [nk, nr, offset, kept shape…, kept strides…, reduced shape…, reduced strides…]; out is Int32Array for argmax/argmin. */
  reduce(op: number, x: Float32Array, out: Float32Array | Int32Array, p: Float64Array): void;
  /** p as im2col's. */
  maxPool2d(x: Float32Array, values: Float32Array, indices: Int32Array, p: Float64Array): void;
  /** p = [gOffset, iOffset, N, C, Ho, Wo, H, W, 4 g strides, 4 index strides]. */
  maxPool2dBackward(g: Float32Array, indices: Int32Array, out: Float32Array, p: Float64Array): void;
  /**
   * The fused convolution (native/src/conv.h): p = [N, C, H, W, O, kh, kw, sh, sw, ph, pw, dh, dw,
   * Ho, Wo, xOffset, 4 x strides, wOffset, 4 w strides, gOffset, 4 g strides, biasOffset,
   * biasStride]; out gets N·O·Ho·Wo, with relu applied when `relu`. With `indices` and pp = [ph, pw, hp, wp]:
   * relu, then a non-overlapping max pool; out and indices get its N·O·hp·wp values and plane argmax.
   */
  conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array, p: Float64Array, relu?: boolean, indices?: Int32Array, pp?: Float64Array): void;
  /**
   * dx [N, C, H, W] = col2im(wᵀ·g) per sample; p as conv2d's; g masked by relu's gradient when y (with yp = [offset, 4 strides]) is given.
   * With `indices` (ip = [offset, 4 strides, ph, pw, hp, wp]): g, y and indices are a pooled forward's [N, O, hp, wp] gradient, values and argmax.
   */
  conv2dBackwardInput(g: Float32Array, w: Float32Array, dx: Float32Array, p: Float64Array, y?: Float32Array | null, yp?: Float64Array, indices?: Int32Array, ip?: Float64Array): void;
  /** dw [O, C, kh, kw] = Σₙ gₙ·colsₙᵀ, db [O] = Σ g (unless null); p as conv2d's; y, indices as conv2dBackwardInput's. */
  conv2dBackwardWeight(
    g: Float32Array,
    x: Float32Array,
    dw: Float32Array,
    db: Float32Array | null,
    p: Float64Array,
    y?: Float32Array | null,
    yp?: Float64Array,
    indices?: Int32Array,
    ip?: Float64Array,
  ): void;
  /** The fused linear layer's gradients dx = g'·w, dw = g'ᵀ·x, db = Σ_rows g' (g' = g masked by y's relu gradient unless y is null); p = [M, N, K, offset and 2 strides of g, x, w, y]. */
  linearBackward(
    g: Float32Array,
    x: Float32Array,
    w: Float32Array,
    y: Float32Array | null,
    dx: Float32Array | null,
    dw: Float32Array | null,
    db: Float32Array | null,
    p: Float64Array,
  ): void;
  /** One Adam/AdamW step in place on w.length elements; h = [β₁, β₂, stepSize, √(1−β₂ᵗ), ε, l2, decay, decoupled, sign]. */
  adamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, vMax: Float32Array | null, h: Float64Array): void;
  setThreads(n: number): void;
  getThreads(): number;
  hardwareThreads(): number;
  /** The sgemm micro-kernel in use: "avx512", "avx2+fma" or "generic" (portable C++). */
  kernelName(): string;
  /** The micro-kernels this CPU can run, fastest first. */
  kernels(): string[];
  /** Selects a micro-kernel ("auto": the fastest); false when this CPU cannot run it. `TG_NATIVE_KERNEL` sets it at load. */
  setKernel(name: string): boolean;
}

/** native/ at the package root: the same relative path from src/backend/native and dist/backend/native. */
const NATIVE_DIR = new URL("../../../native/", import.meta.url);
/** `TG_NATIVE_ADDON` points at another build of the addon (e.g. one with sanitizers, for testing). */
const ADDON_FILE = process.env.TG_NATIVE_ADDON || fileURLToPath(new URL("build/Release/tensorgrad_native.node", NATIVE_DIR));
const STATUS_FILE = fileURLToPath(new URL("build-status.json", NATIVE_DIR));

let addon: NativeAddon | null = null;
let whyNot = "";

function load(): void {
  if (process.env.TG_NATIVE === "0") {
    whyNot = "disabled by TG_NATIVE=0";
    return;
  }
  if (!existsSync(ADDON_FILE)) {
    whyNot = "native addon not built: no build record (install scripts skipped?); run `npm run build:native` (needs a C++ compiler, make, Python 3 and Node headers)";
    try {
      const status = JSON.parse(readFileSync(STATUS_FILE, "utf8")) as { built?: boolean; reason?: string | null };
      if (status.built === false && typeof status.reason === "string") whyNot = `native addon not built: ${status.reason}`;
    } catch {
      // no record: the install script did not run (npm ci --ignore-scripts) or could not write it
    }
    return;
  }
  try {
    addon = createRequire(import.meta.url)(ADDON_FILE) as NativeAddon;
  } catch (e) {
    whyNot = `native addon failed to load (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); rebuild with \`npm run build:native\``;
    return;
  }
  const env = Number(process.env.TG_THREADS);
  if (Number.isInteger(env) && env >= 1) addon.setThreads(env);
}
load();

/** The loaded addon, or null (tests use it to select micro-kernels and call it directly). */
export function nativeAddon(): NativeAddon | null {
  return addon;
}

/** Why the native backend is unavailable ("" when it is available). */
export function nativeUnavailableReason(): string {
  return whyNot;
}
