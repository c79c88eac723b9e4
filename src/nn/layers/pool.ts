/** @file Pooling layers: `nn.MaxPool2d`, `nn.AvgPool2d`, `nn.AdaptiveAvgPool2d` (module forms of the functional ops). */
import type { FusionForm } from "../../fused/patterns.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { type AvgPool2dOptions, adaptiveAvgPool2d, avgPool2d, type MaxPool2dOptions, maxPool2d } from "../functional/pool.ts";
import { Module } from "../module.ts";
import { pyValue } from "./conv.ts";

type Size2 = number | readonly [number, number];

/**
 * Max over each kernelSize window (stride defaults to kernelSize).
 * @example new tg.nn.MaxPool2d(2).call(tg.randn([1, 3, 8, 8])).shape // [1, 3, 4, 4]
 */
export class MaxPool2d extends Module {
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly dilation: Size2;
  readonly ceilMode: boolean;

  constructor(kernelSize: Size2, opts: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.ceilMode = opts.ceilMode ?? false;
  }

  override forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode });
  }

  protected override fusionForm(): FusionForm | null {
    if (this.constructor !== MaxPool2d) return null;
    return { kind: "maxPool2d", kernelSize: this.kernelSize, stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode };
  }

  override extraRepr(): string {
    return `kernel_size=${pyValue(this.kernelSize)}, stride=${pyValue(this.stride)}, padding=${pyValue(this.padding)}, dilation=${pyValue(this.dilation)}, ceil_mode=${pyValue(this.ceilMode)}`;
  }
}

/**
 * Mean over each kernelSize window (stride defaults to kernelSize; padded zeros count unless countIncludePad is false).
 * @example new tg.nn.AvgPool2d(2).call(tg.ones([1, 1, 4, 4])).shape // [1, 1, 2, 2]
 */
export class AvgPool2d extends Module {
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: Size2, opts: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.ceilMode = opts.ceilMode ?? false;
    this.countIncludePad = opts.countIncludePad ?? true;
    this.divisorOverride = opts.divisorOverride ?? null;
  }

  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${pyValue(this.kernelSize)}, stride=${pyValue(this.stride)}, padding=${pyValue(this.padding)}`;
  }
}

/**
 * Average pooling to a fixed output size; `new AdaptiveAvgPool2d(1)` is global average pooling.
 * @example new tg.nn.AdaptiveAvgPool2d(1).call(tg.randn([2, 8, 7, 7])).shape // [2, 8, 1, 1]
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: number | readonly [number | null, number | null];

  constructor(outputSize: number | readonly [number | null, number | null]) {
    super();
    this.outputSize = outputSize;
  }

  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `output_size=${pyValue(this.outputSize)}`;
  }
}
