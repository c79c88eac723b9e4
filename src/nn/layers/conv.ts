/** @file `nn.Conv2d`: a 2-D convolution layer with PyTorch's weight layout, default init and printout. */
import type { FusionForm } from "../../fused/patterns.ts";
import { pair } from "../../ops/conv.ts";
import { zeros } from "../../ops/creation.ts";
import type { DType } from "../../base/dtype.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { type Conv2dOptions, type Conv2dPadding, conv2dAct, conv2dReluMaxPool } from "../functional/conv.ts";
import { defaultLayerInit } from "../init.ts";
import { Module } from "../module.ts";
import { Parameter } from "../parameter.ts";
import { pyBool } from "../util.ts";

/** A value as Python prints it in a module's repr: tuples `(3, 3)`, `None`, `True`, bare strings. */
export function pyValue(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return pyBool(v);
  if (Array.isArray(v)) return `(${v.map(pyValue).join(v.length === 1 ? "," : ", ")})`;
  return String(v);
}

export interface Conv2dLayerOptions extends Conv2dOptions {
  /** Learn an additive bias per output channel (default true). */
  bias?: boolean;
  /** Only "zeros" (PyTorch's default) is supported. */
  paddingMode?: "zeros";
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * 2-D convolution over [N, C, H, W] inputs: weight [outChannels, inChannels / groups, kh, kw],
 * bias [outChannels], both initialised as PyTorch does (U(±1/√fanIn), fanIn = inChannels / groups · kh · kw).
 *
 * @example
 * const conv = new tg.nn.Conv2d(1, 16, 3, { padding: 1 });
 * conv.call(tg.randn([8, 1, 28, 28])).shape // [8, 16, 28, 28]
 */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | "same" | "valid";
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: "zeros";

  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly [number, number], opts: Conv2dLayerOptions = {}) {
    super();
    for (const [name, v] of [["inChannels", inChannels], ["outChannels", outChannels]] as const)
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`Conv2d: ${name} must be a positive integer, got ${v}`);
    const groups = opts.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`Conv2d: groups must be a positive integer, got ${groups}`);
    if (inChannels % groups !== 0 || outChannels % groups !== 0)
      throw new Error(`Conv2d: groups=${groups} must divide both inChannels (${inChannels}) and outChannels (${outChannels})`);
    const paddingMode = opts.paddingMode ?? "zeros";
    if (paddingMode !== "zeros")
      throw new Error(`Conv2d: paddingMode "${paddingMode}" is not supported (only "zeros")`);
    this.kernelSize = pair(kernelSize, "kernelSize", "Conv2d");
    this.stride = pair(opts.stride ?? 1, "stride", "Conv2d");
    this.dilation = pair(opts.dilation ?? 1, "dilation", "Conv2d");
    const padding: Conv2dPadding = opts.padding ?? 0;
    if (padding === "same" && (this.stride[0] !== 1 || this.stride[1] !== 1))
      throw new Error(`Conv2d: padding "same" is not supported for strided convolutions (stride (${this.stride.join(", ")}))`);
    this.padding = typeof padding === "string" ? padding : pair(padding, "padding", "Conv2d", 0);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.groups = groups;
    this.paddingMode = paddingMode;
    const dtype = opts.dtype ?? "float32";
    this.weight = new Parameter(zeros([outChannels, inChannels / groups, ...this.kernelSize], { dtype }));
    this.bias = (opts.bias ?? true) ? new Parameter(zeros([outChannels], { dtype })) : null;
    this.resetParameters();
  }

  /** Draws fresh parameters from PyTorch's default distributions (seeded RNG). */
  resetParameters(): void {
    defaultLayerInit(this.weight, this.bias);
  }

  override forward(x: Tensor): Tensor {
    return conv2dAct(x, this.weight, this.bias, this.options(), false);
  }

  private options(): Conv2dOptions {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
  }

  protected override fusionForm(): FusionForm | null {
    if (this.constructor !== Conv2d) return null;
    return {
      kind: "conv2d",
      act: (x, relu) => conv2dAct(x, this.weight, this.bias, this.options(), relu),
      reluPool: (x, pool) => conv2dReluMaxPool(x, this.weight, this.bias, this.options(), pool),
    };
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyValue(this.kernelSize)}, stride=${pyValue(this.stride)}`;
    if (typeof this.padding === "string" || this.padding.some((p) => p !== 0)) s += `, padding=${pyValue(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyValue(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ", bias=False";
    return s;
  }
}
