/** @file The seeded random-number generator behind every random op (xoshiro128**, seeded by splitmix32). */

/** A small, fast, reproducible generator. The global one is reseeded by `tg.manualSeed`. */
export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | null = null;

  constructor(seed = 0x2545f491) {
    this.manualSeed(seed);
  }

  /** Resets the stream: the same seed gives the same numbers. */
  manualSeed(seed: number): this {
    if (!Number.isFinite(seed)) throw new TypeError(`manualSeed: seed must be a finite number, got ${seed}`);
    // splitmix32 spreads any seed (also large or fractional ones) over the 128-bit state
    let x = (Math.floor(Math.abs(seed)) % 0x100000000) ^ (seed < 0 ? 0x9e3779b9 : 0);
    x ^= Math.floor(Math.abs(seed) / 0x100000000) * 0x85ebca6b;
    const next = () => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    this.spareNormal = null;
    return this;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.uniform();
    this.spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Uniform integer in [low, high). */
  integer(low: number, high: number): number {
    return low + Math.floor(this.uniform() * (high - low));
  }

  /** A random permutation of 0..n−1 (Fisher–Yates, from the last position down). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.integer(0, i + 1);
      const tmp = p[i]!;
      p[i] = p[j]!;
      p[j] = tmp;
    }
    return p;
  }

  /** The generator's full state (PyTorch's `get_state`): plain numbers, JSON-safe, for checkpoints. */
  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0, this.spareNormal ?? Number.NaN];
  }

  /** Restores a state from `getState()`, so the stream continues exactly where it was. */
  setState(state: readonly number[]): this {
    if (!Array.isArray(state) || state.length !== 5 || state.slice(0, 4).some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff))
      throw new TypeError("Generator.setState: expects the 5-number array returned by getState()");
    [this.s0, this.s1, this.s2, this.s3] = state.slice(0, 4).map((v) => v | 0) as [number, number, number, number];
    const spare = state[4]!;
    this.spareNormal = spare === null || Number.isNaN(spare) ? null : spare;
    return this;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The generator random ops use unless given another. */
export const defaultGenerator = new Generator();

/**
 * Seeds the global generator so every random op (init, dropout, shuffling, `rand*`) repeats.
 * @example tg.manualSeed(0); const a = tg.rand([2]); tg.manualSeed(0); tg.rand([2]) // same as a
 */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
