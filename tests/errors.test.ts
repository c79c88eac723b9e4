/**
 * @file Bad input fails loudly and helpfully: every error names the op, the shapes or dtypes
 * involved and what was expected. Messages are asserted with regexes (one exact string: the
 * matmul example of API.md).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as tg from "../src/index.ts";

/** Asserts that `fn` throws an instance of `type` whose message matches every pattern. */
function throwsWith(fn: () => unknown, type: ErrorConstructor, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof type, `expected a ${type.name}, got ${String(e)}`);
    for (const p of patterns) assert.match((e as Error).message, p);
    return true;
  });
}

const x23 = () => tg.zeros([2, 3]);

describe("shape errors", () => {
  test("add of [2,3] and [4] names the op, both shapes and the clashing dim", () => {
    throwsWith(() => x23().add(tg.zeros([4])), Error, /^add: shapes \[2,3\] and \[4\] cannot be broadcast together \(dim -1: 3 vs 4\)$/);
    throwsWith(() => tg.mul(tg.zeros([3, 2]), tg.zeros([2, 3])), Error, /^mul: shapes \[3,2\] and \[2,3\] cannot be broadcast/);
    throwsWith(() => tg.where(tg.ones([2], { dtype: "bool" }), tg.zeros([3]), 0), Error, /^where: shapes \[2\] and \[3\] cannot be broadcast/);
    throwsWith(() => x23().gt(tg.zeros([3, 2])), Error, /^gt: shapes \[2,3\] and \[3,2\]/);
  });

  test("matmul: the exact message of API.md", () => {
    assert.throws(() => tg.matmul(tg.zeros([2, 3]), tg.zeros([4, 5])), {
      message: "matmul: shapes [2,3] and [4,5] are not compatible (3 ≠ 4)",
    });
    assert.throws(() => tg.zeros([2, 3]).matmul(tg.zeros([4, 5])), { message: "matmul: shapes [2,3] and [4,5] are not compatible (3 ≠ 4)" });
    throwsWith(() => tg.matmul(tg.zeros([3]), tg.zeros([4])), Error, /^matmul: shapes \[3\] and \[4\] are not compatible \(3 ≠ 4\)$/);
    throwsWith(() => tg.matmul(tg.zeros([2, 2, 3]), tg.zeros([5, 3, 4])), Error, /^matmul: shapes \[2\] and \[5\] cannot be broadcast/);
    throwsWith(() => tg.matmul(tg.zeros([]), tg.zeros([3])), Error, /^matmul: both arguments need at least 1 dim, got shapes \[\] and \[3\]/);
  });

  test("reshape / view to an incompatible size", () => {
    throwsWith(() => x23().reshape([4, 2]), Error, /^reshape: shape \[4,2\] is invalid for input of shape \[2,3\] \(6 elements\)$/);
    throwsWith(() => x23().reshape(-1, 4), Error, /reshape: shape \[-1,4\] is invalid for input of shape \[2,3\]/);
    throwsWith(() => x23().reshape(-1, -1), Error, /reshape: only one dimension can be -1/);
    throwsWith(() => x23().view(5), Error, /shape \[5\] is invalid for input of shape \[2,3\]/);
    throwsWith(() => x23().t().view(6), Error, /^view: the input of shape \[3,2\] is not contiguous; use reshape\(\)/);
  });

  test("cat / stack with mismatched shapes or dtypes", () => {
    throwsWith(() => tg.cat([x23(), tg.zeros([2, 4])], 0), Error, /^cat: shapes \[2,3\] and \[2,4\] differ outside dim 0$/);
    throwsWith(() => tg.cat([x23(), tg.zeros([3])], 0), Error, /^cat: shapes \[2,3\] and \[3\] differ outside dim 0/);
    assert.equal(tg.cat([x23(), tg.zeros([2, 3], { dtype: "float64" })]).dtype, "float64", "mixed dtypes promote, as in PyTorch");
    throwsWith(() => tg.cat([]), Error, /^cat: expects a non-empty array of tensors/);
    throwsWith(() => tg.cat([x23()], 2), RangeError, /^cat: dim 2 is out of range for a tensor of rank 2/);
    throwsWith(() => tg.stack([x23(), tg.zeros([3, 2])]), Error, /^stack: all tensors must have the same shape, got \[2,3\] and \[3,2\]/);
  });

  test("narrow, split, index out of range", () => {
    throwsWith(() => tg.zeros([4]).narrow(0, 2, 3), RangeError, /^narrow: start 2 and length 3 are out of range for dim 0 of size 4 \(shape \[4\]\)$/);
    throwsWith(() => x23().narrow(1, -5, 1), RangeError, /narrow: start -5 and length 1 are out of range for dim 1 of size 3/);
    throwsWith(() => x23().narrow(2, 0, 1), RangeError, /^narrow: dim 2 is out of range for a tensor of rank 2/);
    throwsWith(() => x23().split([1, 1], 1), Error, /^split: sections \[1,1\] sum to 2, but dim 1 has size 3/);
    throwsWith(() => x23().index(5), RangeError, /^index: index 5 is out of bounds for dim 0 with size 2/);
    throwsWith(() => x23().index(0, 0, 0), Error, /^index: too many indices \(3\) for a tensor of shape \[2,3\]/);
  });

  test("expand, permute, squeeze/unsqueeze, flatten with bad arguments", () => {
    throwsWith(() => x23().expand(2, 4), Error, /^expand: cannot expand shape \[2,3\] to \[2,4\]/);
    throwsWith(() => x23().expand(3), Error, /^expand: target shape \[3\] has fewer dims than the input shape \[2,3\]/);
    throwsWith(() => x23().permute(0), Error, /^permute: got 1 dims \[0\] for a tensor of shape \[2,3\]/);
    throwsWith(() => x23().permute(0, 0), Error, /^permute: dims \[0,0\] repeat an axis/);
    throwsWith(() => x23().unsqueeze(4), RangeError, /^unsqueeze: dim 4 is out of range for a tensor of rank 3 \(expected -3\.\.2\)/);
    throwsWith(() => x23().squeeze(2), RangeError, /^squeeze: dim 2 is out of range/);
    throwsWith(() => tg.zeros([2, 3, 4]).t(), Error, /^t: expects a tensor with at most 2 dims, got shape \[2,3,4\]/);
  });

  test("in-place writes and explicit gradients of the wrong shape", () => {
    throwsWith(() => x23().copy_(tg.zeros([3, 3])), Error, /^copy_: shapes \[2,3\] and \[3,3\] cannot be broadcast/);
    throwsWith(() => tg.zeros([3]).copy_(x23()), Error, /^copy_: cannot write a value of shape \[2,3\] into a tensor of shape \[3\]/);
    const x = tg.ones([2], { requiresGrad: true });
    throwsWith(() => x.mul(2).backward(tg.ones([2, 2])), Error, /^backward: gradient shape \[2,2\] does not match output shape \[2\]/);
  });
});

describe("invalid dims", () => {
  test("sum(5) on a 2-D tensor", () => {
    throwsWith(() => x23().sum(5), RangeError, /^sum: dim 5 is out of range for a tensor of rank 2 \(expected -2\.\.1\)$/);
    throwsWith(() => x23().sum(-3), RangeError, /^sum: dim -3 is out of range for a tensor of rank 2/);
    throwsWith(() => x23().sum([0, 0]), Error, /^sum: dim \[0,0\] repeats an axis/);
    throwsWith(() => x23().sum(0.5), TypeError, /^sum: dim must be an integer, got 0\.5/);
    throwsWith(() => x23().mean(2), RangeError, /^mean: dim 2 is out of range/);
    throwsWith(() => x23().max(2), RangeError, /^argmax: dim 2 is out of range|^max: dim 2 is out of range/);
    throwsWith(() => x23().argmax(-3), RangeError, /^argmax: dim -3 is out of range for a tensor of rank 2/);
  });

  test("transpose and softmax with a dim out of range", () => {
    throwsWith(() => x23().transpose(0, 2), RangeError, /^transpose: dim 2 is out of range for a tensor of rank 2 \(expected -2\.\.1\)$/);
    throwsWith(() => tg.transpose(x23(), -3, 0), RangeError, /^transpose: dim -3 is out of range/);
    throwsWith(() => x23().softmax(2), RangeError, /^softmax: dim 2 is out of range for a tensor of rank 2 \(expected -2\.\.1\)$/);
    throwsWith(() => tg.logSoftmax(tg.zeros([3]), 1), RangeError, /^logSoftmax: dim 1 is out of range for a tensor of rank 1 \(expected -1\.\.0\)$/);
  });

  test("reductions over an empty dim that has no identity", () => {
    throwsWith(() => tg.zeros([0, 3]).amax(0), Error, /^amax: cannot reduce over an empty dim of shape \[0,3\]/);
    throwsWith(() => tg.zeros([0]).argmax(), Error, /^argmax: cannot reduce an empty tensor of shape \[0\]/);
  });
});

describe("wrong dtypes", () => {
  test("gather with a float index", () => {
    throwsWith(() => x23().gather(1, tg.zeros([2, 1])), TypeError, /^gather: index must be an int32 tensor, got dtype float32$/);
    throwsWith(() => x23().index(tg.tensor([0.0])), TypeError, /^index: index must be an int32 tensor, got dtype float32/);
    throwsWith(() => x23().gather(1, tg.zeros([2, 1, 1], { dtype: "int32" })), Error, /^gather: index shape \[2,1,1\] does not fit input shape \[2,3\] along dim 1/);
  });

  test("where with a float condition", () => {
    throwsWith(() => tg.where(tg.ones([2]), 1, 0), TypeError, /^where: condition must be a bool tensor, got dtype float32 \(use a comparison like x\.gt\(0\)\)$/);
    throwsWith(() => tg.ones([2]).where(tg.ones([2], { dtype: "int32" }), 0), TypeError, /where: condition must be a bool tensor, got dtype int32/);
  });

  test("requiresGrad on int32 / bool", () => {
    throwsWith(
      () => tg.zeros([2], { dtype: "int32", requiresGrad: true }),
      TypeError,
      /^requiresGrad_: only floating-point tensors can require gradients, got dtype int32 \(convert with \.to\("float32"\)\)$/,
    );
    throwsWith(() => tg.tensor([true]).requiresGrad_(), TypeError, /got dtype bool/);
  });

  test("mean / var of int32", () => {
    throwsWith(() => tg.arange(4).mean(), TypeError, /^mean: input dtype must be floating point, got int32/);
    throwsWith(() => tg.arange(4).var(), TypeError, /^var: input dtype must be floating point, got int32/);
  });

  test("other dtype mismatches", () => {
    throwsWith(() => tg.tensor([true]).sub(tg.tensor([false])), TypeError, /^sub: not supported for two bool operands/);
    throwsWith(() => tg.tensor([true]).neg(), TypeError, /^neg: not supported for bool tensors/);
    throwsWith(() => tg.matmul(tg.ones([2, 2], { dtype: "bool" }), tg.ones([2, 2], { dtype: "bool" })), TypeError, /^matmul: not supported for bool tensors/);
    throwsWith(() => tg.oneHot(tg.tensor([0, 1])), TypeError, /^oneHot: labels must be an int32 tensor, got dtype float32/);
    throwsWith(() => tg.linalg.solve(tg.eye(2, 2, { dtype: "int32" }), tg.ones([2], { dtype: "int32" })), TypeError, /^linalg\.solve: expects floating-point tensors, got int32 and int32/);
    throwsWith(() => tg.zeros([2], { dtype: "float16" as tg.DType }), TypeError, /^full: unknown dtype "float16" \(expected one of float32, float64, int32, bool\)|unknown dtype "float16"/);
    throwsWith(() => tg.rand([2], { dtype: "int32" }), TypeError, /^rand: dtype must be float32 or float64, got int32/);
  });
});

describe("autograd misuse", () => {
  test("non-scalar backward without a gradient", () => {
    const y = tg.ones([2, 3], { requiresGrad: true }).mul(2);
    throwsWith(() => y.backward(), Error, /^backward: grad can be implicitly created only for scalar outputs, got shape \[2,3\]; pass a gradient of that shape$/);
  });

  test("backward on a tensor outside any graph, and a freed graph", () => {
    throwsWith(() => x23().sum().backward(), Error, /^backward: the tensor does not require grad and has no gradFn/);
    const x = tg.ones([2], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward();
    throwsWith(() => y.backward(), Error, /^backward: trying to backward through the graph a second time \(ExpBackward0 has already freed its saved values\); pass \{ retainGraph: true \}/);
  });

  test("in-place update of a leaf that requires grad", () => {
    const w = tg.ones([2], { requiresGrad: true });
    throwsWith(() => w.sub_(1), Error, /^sub_: a tensor that requires grad cannot be modified in place while recording a graph; wrap the update in tg\.noGrad/);
  });

  test("gradcheck names the worst element", () => {
    const x = tg.tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    // a deliberately wrong derivative: detach hides one factor from autograd
    throwsWith(
      () => tg.gradcheck((t) => t.mul(t.detach()), [x]),
      Error,
      /^gradcheck: gradient mismatch for input 0 \(shape \[3\]\) at element \[2\], output element \[2\]: analytical 3, numerical 6/,
    );
  });
});

describe("conversions and creation", () => {
  test("item() on a non-scalar", () => {
    throwsWith(() => x23().item(), Error, /^item: only one-element tensors can be converted to a number, got shape \[2,3\]$/);
    throwsWith(() => tg.zeros([0]).item(), Error, /got shape \[0\]/);
  });

  test("tg.tensor of a non-array", () => {
    throwsWith(() => tg.tensor("abc" as never), TypeError, /^tensor: expected nested arrays, a number, a typed array or a Tensor, got string$/);
    throwsWith(() => tg.tensor(null as never), TypeError, /got null/);
    throwsWith(() => tg.tensor({ a: 1 } as never), TypeError, /got object/);
    throwsWith(() => tg.tensor(undefined as never), TypeError, /got undefined/);
    throwsWith(() => tg.tensor([[1, 2], [3]]), Error, /^tensor: ragged nested array: expected length 2 at \[1\], got 1$/);
  });

  test("ops given arrays or strings instead of tensors say so", () => {
    throwsWith(() => tg.matmul([1, 2] as never, tg.ones([2])), TypeError, /^matmul: first argument must be a Tensor, got an array \(wrap it with tg\.tensor\)/);
    throwsWith(() => tg.exp(3 as never), TypeError, /^exp: input must be a Tensor, got number/);
    throwsWith(() => tg.ones([2]).add("1" as never), TypeError, /^add: second argument must be a Tensor or a number, got string/);
    throwsWith(() => tg.add([1] as never, 1), TypeError, /^add: first argument must be a Tensor or a number, got an array \(wrap it with tg\.tensor\)/);
  });

  test("creation functions with bad shapes or ranges", () => {
    throwsWith(() => tg.zeros([2, -1]), RangeError, /^full: invalid shape \[2,-1\] \(sizes must be non-negative integers\)/);
    throwsWith(() => tg.ones([1.5]), RangeError, /invalid shape \[1\.5\]/);
    throwsWith(() => tg.arange(0, 5, 0), RangeError, /^arange: step must be non-zero/);
    throwsWith(() => tg.arange(5, 0, 1), RangeError, /^arange: the range \[5, 0\) cannot be walked with step 1 \(wrong sign\)/);
    throwsWith(() => tg.linspace(0, 1, -1), RangeError, /^linspace: steps must be a non-negative integer, got -1/);
    throwsWith(() => tg.randint(5, 2, [3]), RangeError, /^randint: expects integers low < high, got low=5, high=2/);
  });
});

describe("linear algebra", () => {
  test("singular matrix in linalg.solve / inv", () => {
    const singular = tg.tensor([[1, 2], [2, 4]]);
    throwsWith(() => tg.linalg.solve(singular, tg.tensor([1, 2])), Error, /^linalg\.solve: the matrix is singular/);
    throwsWith(() => tg.linalg.inv(singular), Error, /^linalg\.inv: the matrix is singular/);
    throwsWith(() => tg.linalg.lstsq(tg.tensor([[1, 1], [1, 1], [1, 1]]), tg.ones([3])), Error, /^linalg\.lstsq: the matrix does not have full column rank/);
  });

  test("non-square or mismatched systems", () => {
    throwsWith(() => tg.linalg.solve(x23(), tg.ones([2])), Error, /^linalg\.solve: A must be square, got shape \[2,3\]/);
    throwsWith(() => tg.linalg.solve(tg.eye(2), tg.ones([3])), Error, /^linalg\.solve: shapes \[2,2\] and \[3\] are not compatible \(A has 2 rows, B has 3\)/);
    throwsWith(() => tg.linalg.inv(x23()), Error, /^linalg\.inv: A must be a square matrix \(or a batch of them\), got shape \[2,3\]/);
    throwsWith(() => tg.linalg.solve(tg.ones([2]), tg.ones([2])), Error, /^linalg\.solve: A must have at least 2 dims, got shape \[2\]/);
  });
});
