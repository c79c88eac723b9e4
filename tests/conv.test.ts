/**
 * @file Convolution and pooling: PyTorch golden values (tests/golden/conv.json, written by
 * generate_conv.py) for forward and every input's gradient, float64 gradchecks of each op and of
 * conv2d's second order, the curriculum's output sizes, error messages, and the layers.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import * as tg from "../src/index.ts";
import { col2im, im2col } from "../src/ops/conv.ts";

const F = tg.nn.functional;

type ViewStep = { permute: number[] } | { transpose: [number, number] } | { narrow: [number, number, number] };

interface TensorJson {
  data: number[];
  shape: number[];
  dtype: "float32" | "float64" | "int32";
  view?: ViewStep[];
}

interface ConvCase {
  name: string;
  op: "conv2d" | "maxPool2d" | "avgPool2d" | "adaptiveAvgPool2d";
  inputs: Record<string, TensorJson>;
  args: unknown[];
  opts: Record<string, unknown>;
  output: TensorJson;
  indices?: TensorJson;
  gradOutput: TensorJson;
  grads: Record<string, TensorJson>;
  tol: { rtol: number; atol: number };
}

const golden = JSON.parse(readFileSync(new URL("./golden/conv.json", import.meta.url), "utf8")) as { cases: ConvCase[] };

function tensorOf(j: TensorJson): tg.Tensor {
  const data = j.dtype === "float64" ? Float64Array.from(j.data) : Float32Array.from(j.data);
  return tg.tensor(data, { dtype: j.dtype }).reshape(j.shape);
}

function applyView(x: tg.Tensor, step: ViewStep): tg.Tensor {
  if ("permute" in step) return x.permute(step.permute);
  if ("transpose" in step) return x.transpose(...step.transpose);
  return x.narrow(...step.narrow);
}

function assertClose(actual: tg.Tensor, expected: TensorJson, tol: ConvCase["tol"], what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const e = expected.data[i]!;
    const excess = Math.abs(Number(a[i]) - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
    }
  }
  if (worst >= 0) assert.fail(`${what}: element ${worst} is ${a[worst]}, expected ${expected.data[worst]} (rtol ${tol.rtol}, atol ${tol.atol})`);
}

/** Runs one golden case through tg.nn.functional and returns the output. */
function run(c: ConvCase, xs: Record<string, tg.Tensor>): { out: tg.Tensor; indices?: tg.Tensor } {
  const opts = c.opts as never;
  switch (c.op) {
    case "conv2d":
      return { out: F.conv2d(xs.x!, xs.weight!, xs.bias ?? null, opts) };
    case "maxPool2d": {
      const { values, indices } = F.maxPool2dWithIndices(xs.x!, c.args[0] as number, opts);
      assert.deepEqual(F.maxPool2d(xs.x!, c.args[0] as number, opts).dataSync(), values.dataSync());
      return { out: values, indices };
    }
    case "avgPool2d":
      return { out: F.avgPool2d(xs.x!, c.args[0] as number, opts) };
    case "adaptiveAvgPool2d":
      return { out: F.adaptiveAvgPool2d(xs.x!, c.args[0] as number) };
  }
}

describe("golden values from PyTorch", () => {
  for (const c of golden.cases) {
    test(c.name, () => {
      const leaves: Record<string, tg.Tensor> = {};
      const xs: Record<string, tg.Tensor> = {};
      for (const [k, spec] of Object.entries(c.inputs)) {
        leaves[k] = tensorOf(spec).requiresGrad_(true);
        xs[k] = (spec.view ?? []).reduce(applyView, leaves[k]!);
      }
      const { out, indices } = run(c, xs);
      assert.equal(out.dtype, c.output.dtype);
      assertClose(out, c.output, c.tol, `${c.name}: output`);
      if (c.indices) {
        assert.equal(indices!.dtype, "int32");
        assert.deepEqual(Array.from(indices!.dataSync()), c.indices.data, `${c.name}: indices`);
      }
      out.backward(tensorOf(c.gradOutput));
      for (const [k, expected] of Object.entries(c.grads)) assertClose(leaves[k]!.grad!, expected, c.tol, `${c.name}: grad of ${k}`);
    });
  }
});

const f64 = (shape: number[]) => tg.randn(shape, { dtype: "float64", requiresGrad: true });

describe("gradcheck (float64)", () => {
  test("conv2d: stride, padding, bias", () => {
    tg.manualSeed(1);
    tg.gradcheck((x, w, b) => F.conv2d(x!, w!, b!, { stride: 2, padding: 1 }), [f64([2, 2, 5, 4]), f64([3, 2, 3, 2]), f64([3])]);
  });
  test("conv2d: \"same\" with an even kernel (asymmetric padding) and dilation", () => {
    tg.manualSeed(2);
    tg.gradcheck((x, w) => F.conv2d(x!, w!, null, { padding: "same", dilation: [2, 1] }), [f64([1, 2, 5, 5]), f64([2, 2, 2, 4])]);
  });
  test("conv2d: groups and a non-contiguous input", () => {
    tg.manualSeed(3);
    const base = f64([1, 5, 4, 4]);
    tg.gradcheck((x, w) => F.conv2d(x!.permute([0, 3, 1, 2]), w!, null, { groups: 2 }), [base, f64([4, 2, 2, 2])]);
  });
  test("maxPool2d: padding, dilation, ceil mode", () => {
    tg.manualSeed(4);
    tg.gradcheck((x) => F.maxPool2d(x!, 2, { stride: 2, padding: 1, dilation: [1, 2], ceilMode: true }), [f64([2, 2, 5, 6])]);
  });
  test("avgPool2d: ceil mode without padded zeros, and a divisor override", () => {
    tg.manualSeed(5);
    tg.gradcheck((x) => F.avgPool2d(x!, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [f64([1, 2, 6, 5])]);
    tg.gradcheck((x) => F.avgPool2d(x!, [2, 3], { divisorOverride: 4 }), [f64([1, 2, 4, 6])]);
  });
  test("adaptiveAvgPool2d: non-divisible, divisible and global", () => {
    tg.manualSeed(6);
    tg.gradcheck((x) => F.adaptiveAvgPool2d(x!, [3, 2]), [f64([1, 2, 7, 5])]);
    tg.gradcheck((x) => F.adaptiveAvgPool2d(x!, [2, 5]), [f64([1, 2, 6, 5])]);
    tg.gradcheck((x) => F.adaptiveAvgPool2d(x!, 1), [f64([2, 2, 3, 4])]);
  });
  test("im2col and col2im are adjoint primitives", () => {
    tg.manualSeed(7);
    const win = { kernel: [2, 3], stride: [2, 1], padding: [1, 1], dilation: [1, 2], outSize: [3, 3] } as const;
    tg.gradcheck((x) => im2col(x!, win), [f64([1, 2, 4, 5])]);
    tg.gradcheck((c) => col2im(c!, win, [4, 5]), [f64([1, 12, 9])]);
    // <im2col(x), c> = <x, col2im(c)>
    const x = tg.randn([2, 2, 4, 5], { dtype: "float64" });
    const c = tg.randn([2, 12, 9], { dtype: "float64" });
    const lhs = im2col(x, win).mul(c).sum().item();
    const rhs = x.mul(col2im(c, win, [4, 5])).sum().item();
    assert.ok(Math.abs(lhs - rhs) < 1e-10, `${lhs} vs ${rhs}`);
  });
});

/** The gradient of sum(f(x, w)²) w.r.t. the inputs, with a graph: checking it checks second derivatives. */
function gradOfSquares(f: (...xs: tg.Tensor[]) => tg.Tensor) {
  return (...xs: tg.Tensor[]) => {
    const gs = tg.grad(f(...xs).square().sum(), xs, { createGraph: true });
    return tg.cat(gs.map((g) => g!.reshape([-1])));
  };
}

describe("second order (float64)", () => {
  test("conv2d: Hessian-vector products through im2col / col2im / matmul", () => {
    tg.manualSeed(8);
    const conv = (x: tg.Tensor, w: tg.Tensor, b: tg.Tensor) => F.conv2d(x, w, b, { stride: [1, 2], padding: 1, groups: 2 });
    tg.gradcheck(gradOfSquares((x, w, b) => conv(x!, w!, b!)), [f64([1, 2, 4, 4]), f64([2, 1, 2, 2]), f64([2])]);
  });
  test("conv2d → relu → maxPool2d → avgPool2d", () => {
    tg.manualSeed(9);
    const net = (x: tg.Tensor, w: tg.Tensor) => F.avgPool2d(F.maxPool2d(F.conv2d(x, w, null, { padding: 1 }).tanh(), 2, { stride: 1 }), 2);
    tg.gradcheck(gradOfSquares((x, w) => net(x!, w!)), [f64([1, 1, 5, 5]), f64([2, 1, 3, 3])]);
  });
});

test("maxPool2d: a window of padding only gives -∞ and passes no gradient, to any order", () => {
  // one input row, a dilated 2-row window starting in the padding: both taps miss the input
  const x = tg.randn([1, 1, 1, 3], { dtype: "float64", requiresGrad: true });
  const { values, indices } = F.maxPool2dWithIndices(x, [2, 1], { dilation: [2, 1], padding: [1, 0] });
  assert.deepEqual(values.toArray(), [[[[-Infinity, -Infinity, -Infinity]]]]);
  assert.deepEqual(indices.toArray(), [[[[-1, -1, -1]]]]);
  const v = tg.randn([1, 1, 1, 3], { dtype: "float64", requiresGrad: true });
  const [gx2] = tg.grad(F.maxPool2d(x, [2, 1], { dilation: [2, 1], padding: [1, 0] }).mul(v).sum(), [x], { createGraph: true });
  assert.deepEqual(gx2!.toArray(), [[[[0, 0, 0]]]]);
  const [gv] = tg.grad(gx2!.mul(tg.randn([1, 1, 1, 3], { dtype: "float64" })).sum(), [v]);
  assert.deepEqual(gv!.toArray(), [[[[0, 0, 0]]]]);
});

describe("output sizes", () => {
  test("curriculum §5: 6×6, pad 1, 2×2 kernel, stride 1 → 7×7", () => {
    const y = F.conv2d(tg.randn([1, 1, 6, 6]), tg.randn([1, 1, 2, 2]), null, { padding: 1, stride: 1 });
    assert.deepEqual(y.shape, [1, 1, 7, 7]);
    assert.deepEqual(new tg.nn.Conv2d(1, 1, 2, { padding: 1 }).call(tg.randn([1, 1, 6, 6])).shape, [1, 1, 7, 7]);
  });
  test("curriculum §5: 8×8, pad 1, 3×3 kernel, stride 2 → 4×4", () => {
    const y = F.conv2d(tg.randn([1, 1, 8, 8]), tg.randn([1, 1, 3, 3]), null, { padding: 1, stride: 2 });
    assert.deepEqual(y.shape, [1, 1, 4, 4]);
  });
  test("\"same\" keeps the size for odd and even kernels; unbatched inputs stay unbatched", () => {
    for (const k of [1, 2, 3, 4, 5]) assert.deepEqual(F.conv2d(tg.randn([2, 3, 7, 6]), tg.randn([4, 3, k, k]), null, { padding: "same" }).shape, [2, 4, 7, 6]);
    assert.deepEqual(F.conv2d(tg.randn([3, 7, 6]), tg.randn([4, 3, 3, 3])).shape, [4, 5, 4]);
    assert.deepEqual(F.maxPool2d(tg.randn([3, 7, 6]), 2).shape, [3, 3, 3]);
    assert.deepEqual(F.maxPool2d(tg.randn([3, 7, 6]), 2, { ceilMode: true }).shape, [3, 4, 3]);
    assert.deepEqual(F.adaptiveAvgPool2d(tg.randn([3, 7, 6]), 1).shape, [3, 1, 1]);
  });
  test("global average pooling equals the spatial mean", () => {
    const x = tg.randn([2, 3, 5, 7], { dtype: "float64" });
    const d = F.adaptiveAvgPool2d(x, 1).sub(x.mean([2, 3], true)).abs().max().item();
    assert.ok(d < 1e-12);
  });
});

describe("errors name the op and the shapes", () => {
  const x = tg.randn([2, 3, 5, 5]);
  test("channel mismatch", () => {
    assert.throws(() => F.conv2d(x, tg.randn([4, 2, 3, 3])), /conv2d: input shape \[2,3,5,5\] has 3 channels, but weight shape \[4,2,3,3\] with groups=1 expects 2/);
  });
  test("groups must divide the channels", () => {
    assert.throws(() => F.conv2d(x, tg.randn([4, 1, 3, 3]), null, { groups: 2 }), /conv2d: groups=2 must divide both the input channels \(3\) and the output channels \(4\)/);
    assert.throws(() => new tg.nn.Conv2d(3, 4, 3, { groups: 2 }), /Conv2d: groups=2 must divide both inChannels \(3\) and outChannels \(4\)/);
  });
  test("kernel larger than the padded input", () => {
    assert.throws(() => F.conv2d(tg.randn([1, 1, 2, 2]), tg.randn([1, 1, 3, 3])), /conv2d: kernel 3×3 is larger than the padded input 2×2 \(input shape \[1,1,2,2\], weight shape \[1,1,3,3\]\)/);
    assert.throws(() => F.conv2d(tg.randn([1, 1, 4, 4]), tg.randn([1, 1, 3, 3]), null, { dilation: 2 }), /dilated to 5×5/);
    assert.throws(() => F.maxPool2d(tg.randn([1, 1, 2, 2]), 3), /maxPool2d: kernel \[3,3\].*input shape \[1,1,2,2\]/);
    assert.throws(() => F.avgPool2d(tg.randn([1, 1, 2, 5]), [3, 2]), /avgPool2d: kernel \[3,2\]/);
  });
  test("bad ranks, dtypes, bias and options", () => {
    assert.throws(() => F.conv2d(tg.randn([5, 5]), tg.randn([1, 1, 3, 3])), /conv2d: expected a 3-D \(unbatched \[C, H, W\]\) or 4-D \(batched \[N, C, H, W\]\) input, got shape \[5,5\]/);
    assert.throws(() => F.conv2d(x, tg.randn([4, 3, 3])), /conv2d: weight must be 4-D/);
    assert.throws(() => F.conv2d(x, tg.randn([4, 3, 3, 3], { dtype: "float64" })), /conv2d: input \(float32\) and weight \(float64\) must have the same dtype/);
    assert.throws(() => F.conv2d(x, tg.randn([4, 3, 3, 3]), tg.randn([3])), /conv2d: bias must have shape \[4\]/);
    assert.throws(() => F.conv2d(x, tg.randn([4, 3, 3, 3]), null, { padding: "same", stride: 2 }), /padding "same" is not supported for strided convolutions/);
    assert.throws(() => F.conv2d(x, tg.randn([4, 3, 3, 3]), null, { stride: 0 }), /conv2d: stride must be an integer ≥ 1/);
    assert.throws(() => F.maxPool2d(tg.ones([1, 1, 4, 4], { dtype: "int32" }), 2), /maxPool2d: expected a float32 or float64 input, got dtype int32/);
    assert.throws(() => F.maxPool2d(x, 2, { padding: 2 }), /maxPool2d: padding \[2,2\] must be at most half/);
    assert.throws(() => new tg.nn.Conv2d(3, 4, 3, { padding: "same", stride: [2, 1] }), /Conv2d: padding "same" is not supported for strided convolutions/);
    assert.throws(() => new tg.nn.Conv2d(3, 4, 3, { paddingMode: "reflect" as "zeros" }), /Conv2d: paddingMode "reflect" is not supported/);
  });
});

describe("layers", () => {
  test("Conv2d: PyTorch's layout, names, init bounds and printout", () => {
    tg.manualSeed(0);
    const conv = new tg.nn.Conv2d(1, 16, 3, { padding: 1 });
    assert.equal(conv.toString(), "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))");
    assert.deepEqual(Object.keys(conv.stateDict()), ["weight", "bias"]);
    assert.deepEqual(conv.weight.shape, [16, 1, 3, 3]);
    const bound = 1 / 3; // 1/√(1·3·3)
    for (const p of [conv.weight, conv.bias!]) {
      const v = Array.from(p.dataSync());
      assert.ok(v.every((e) => Math.abs(e) <= bound) && Math.max(...v.map(Math.abs)) > bound / 2, "U(±1/√fanIn)");
    }
    tg.manualSeed(0);
    assert.deepEqual(new tg.nn.Conv2d(1, 16, 3, { padding: 1 }).weight.dataSync(), conv.weight.dataSync(), "seeded init repeats");
    const g = new tg.nn.Conv2d(4, 8, [3, 5], { padding: "same", dilation: 2, groups: 2, bias: false });
    assert.deepEqual(g.weight.shape, [8, 2, 3, 5]);
    assert.equal(g.bias, null);
    assert.deepEqual(Object.keys(g.stateDict()), ["weight"]);
    assert.equal(g.toString(), "Conv2d(4, 8, kernel_size=(3, 5), stride=(1, 1), padding=same, dilation=(2, 2), groups=2, bias=False)");
  });
  test("pool layers print like PyTorch and match the functional forms", () => {
    assert.equal(new tg.nn.MaxPool2d(2).toString(), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
    assert.equal(new tg.nn.MaxPool2d([3, 2], { stride: 1, ceilMode: true }).toString(), "MaxPool2d(kernel_size=(3, 2), stride=1, padding=0, dilation=1, ceil_mode=True)");
    assert.equal(new tg.nn.AvgPool2d(3, { stride: 2, padding: 1 }).toString(), "AvgPool2d(kernel_size=3, stride=2, padding=1)");
    assert.equal(new tg.nn.AdaptiveAvgPool2d(1).toString(), "AdaptiveAvgPool2d(output_size=1)");
    assert.equal(new tg.nn.AdaptiveAvgPool2d([5, null]).toString(), "AdaptiveAvgPool2d(output_size=(5, None))");
    const x = tg.randn([2, 3, 7, 7]);
    assert.deepEqual(new tg.nn.MaxPool2d(3, { stride: 2, padding: 1 }).call(x).dataSync(), F.maxPool2d(x, 3, { stride: 2, padding: 1 }).dataSync());
    assert.deepEqual(new tg.nn.AvgPool2d(2, { ceilMode: true }).call(x).dataSync(), F.avgPool2d(x, 2, { ceilMode: true }).dataSync());
    assert.deepEqual(new tg.nn.AdaptiveAvgPool2d([3, 4]).call(x).shape, [2, 3, 3, 4]);
    assert.deepEqual(new tg.nn.MaxPool2d(2).parameters(), []);
  });
  test("the graph names its backward nodes", () => {
    const x = tg.randn([1, 1, 4, 4], { requiresGrad: true });
    assert.equal(F.maxPool2d(x, 2).gradFn?.name, "MaxPool2dBackward0");
    assert.equal(F.avgPool2d(x, 2).gradFn?.name, "AvgPool2dBackward0");
  });
});
