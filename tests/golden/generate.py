#!/usr/bin/python3
"""Generate tests/golden/ops.json: PyTorch golden values for every tensorgrad tensor op.

Run from anywhere:  /usr/bin/python3 tests/golden/generate.py

Each case records the op's inputs (base tensors plus the view steps applied to them), the
forward output and, for differentiable float cases, an upstream gradient g and the gradients
d(sum(out * g)) / d(base) of every leaf.  The TypeScript harness replays each case as
tg[op](...inputs, ...args) (see "callConventions" in the JSON for the exceptions).

Conventions
  * tensorgrad has no int64: wherever torch produces int64 (integer sums, argmax, indices,
    one_hot) the golden output is converted to int32 and labelled "int32".
  * Number operands are written as {"scalar": v}.  JavaScript cannot tell 2 from 2.0, so an
    int32 tensor is only ever combined with numbers whose integer-ness is unambiguous
    (2 -> stays int32, 2.5 -> float32).
  * Inputs avoid kinks and ties except in cases named ".../tie-convention/..." which pin down
    PyTorch's documented behaviour there.
"""

import json
import math
import os
from types import SimpleNamespace

# single-threaded BLAS/LAPACK so every run writes identical bytes (set before torch loads)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_num_threads(1)
GRAD_GEN = torch.Generator().manual_seed(1234)  # upstream gradients only

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.json")
DTYPES = {"float32": torch.float32, "float64": torch.float64, "int32": torch.int32, "bool": torch.bool}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}
TOL = {
    "float32": {"rtol": 1e-5, "atol": 1e-6},
    "float64": {"rtol": 1e-10, "atol": 1e-12},
    "exact": {"rtol": 0, "atol": 0},
}

CASES = []


# ----------------------------------------------------------------------------- input specs


class Scalar:
    """A plain JS number argument."""

    def __init__(self, value):
        self.value = value


class T:
    """A tensor input: a base tensor plus view steps applied to it, in order."""

    def __init__(self, base, view=()):
        self.base = base
        self.view = list(view)


def S(value):
    return Scalar(value)


def randn(shape, dtype="float32", away=0.0, scale=1.0, view=()):
    """Standard normal values; |x| >= away keeps them off kinks such as 0."""
    x = torch.randn(shape, dtype=torch.float64) * scale
    if away:
        x = torch.sign(x) * (x.abs() + away)
        x[x == 0] = away
    return T(x.to(DTYPES[dtype]), view)


def uniform(shape, lo, hi, dtype="float32", view=()):
    x = torch.rand(shape, dtype=torch.float64) * (hi - lo) + lo
    return T(x.to(DTYPES[dtype]), view)


def ints(shape, lo, hi, view=()):
    return T(torch.randint(lo, hi, shape).to(torch.int32), view)


def bools(shape, view=()):
    return T(torch.rand(shape) > 0.5, view)


def lit(data, dtype="float32", view=()):
    return T(torch.tensor(data, dtype=DTYPES[dtype]), view)


def well_conditioned(shape, dtype="float64"):
    """Square matrices (optionally batched) = randn + 3 I: condition number around 10."""
    n = shape[-1]
    x = torch.randn(shape, dtype=torch.float64) + 3 * torch.eye(n, dtype=torch.float64)
    return T(x.to(DTYPES[dtype]))


def apply_view(x, step):
    (kind, arg), = step.items()
    if kind == "transpose":
        return x.transpose(*arg)
    if kind == "permute":
        return x.permute(*arg)
    if kind == "expand":
        return x.expand(*arg)
    if kind == "narrow":
        return x.narrow(*arg)
    if kind == "unsqueeze":
        return x.unsqueeze(arg)
    if kind == "reshape":
        return x.reshape(arg)
    raise ValueError(f"unknown view step {step}")


# ----------------------------------------------------------------------------- serialisation


def flat(t):
    """Row-major flat list of a tensor's values (full float64 repr of each element)."""
    t = t.detach().contiguous().reshape(-1)
    if t.dtype == torch.bool:
        return [bool(v) for v in t.tolist()]
    if t.is_floating_point():
        vals = [float(v) for v in t.tolist()]
        bad = [v for v in vals if not math.isfinite(v)]
        if bad:
            raise ValueError(f"non-finite value in golden data: {bad[:3]}")
        return vals
    vals = [int(v) for v in t.tolist()]
    if any(v < -2**31 or v >= 2**31 for v in vals):
        raise ValueError("integer value does not fit int32")
    return vals


def dtype_name(t):
    if t.dtype == torch.int64:
        return "int32"  # tensorgrad has no int64
    return DTYPE_NAMES[t.dtype]


def tensor_json(t, with_dtype=True):
    j = {"data": flat(t), "shape": list(t.shape)}
    if with_dtype:
        j["dtype"] = dtype_name(t)
    return j


# ----------------------------------------------------------------------------- the case builder


def case(name, op, fn, inputs, args=(), *, output_key=None, grad=True, tol=None):
    """Record one golden case.

    fn receives the realised inputs (views applied; scalars as Python numbers) followed by
    args, and returns the torch result; output_key picks a field/element of a structured
    result.  grad=False marks a non-differentiable case (no gradOutput / grads).
    """
    assert not any(c["name"] == name for c in CASES), f"duplicate case name {name}"
    leaves, realised, specs = [], [], []
    for spec in inputs:
        if isinstance(spec, Scalar):
            leaves.append(None)
            realised.append(spec.value)
            specs.append({"scalar": spec.value})
            continue
        base = spec.base.detach().clone()
        wants_grad = grad and base.is_floating_point()
        if wants_grad:
            base.requires_grad_(True)
        x = base
        for step in spec.view:
            x = apply_view(x, step)
        leaves.append(base if wants_grad else None)
        realised.append(x)
        j = tensor_json(base)
        j["requiresGrad"] = wants_grad
        if spec.view:
            j["view"] = spec.view
        specs.append(j)

    out = fn(*realised, *args)
    if output_key is not None:
        out = getattr(out, output_key) if isinstance(output_key, str) else out[output_key]

    # float64 tolerance only when every float tensor involved is float64 (mixed cases produce
    # float32 gradients); integer and bool outputs must match exactly.
    out_dtype = dtype_name(out)
    dtypes = {s["dtype"] for s in specs if "dtype" in s} | {out_dtype}
    if out_dtype in ("int32", "bool"):
        default_tol = TOL["exact"]
    elif "float32" in dtypes:
        default_tol = TOL["float32"]
    else:
        default_tol = TOL["float64"]

    c = {"name": name, "op": op, "inputs": specs, "args": list(args), "output": tensor_json(out)}
    if output_key is not None:
        c["outputKey"] = output_key

    differentiable = grad and out.is_floating_point() and any(l is not None for l in leaves)
    if differentiable:
        g = torch.randn(out.shape, generator=GRAD_GEN, dtype=torch.float64).to(out.dtype)
        if out.requires_grad:
            torch.autograd.backward(out, g)
        grads = []
        for leaf in leaves:
            if leaf is None:
                grads.append(None)
            else:
                # A leaf that received no gradient (e.g. step) has a zero gradient.
                gr = leaf.grad if leaf.grad is not None else torch.zeros_like(leaf)
                grads.append(tensor_json(gr, with_dtype=False))
        c["gradOutput"] = tensor_json(g, with_dtype=False)
        c["grads"] = grads
    c["tol"] = tol or default_tol
    CASES.append(c)


# ----------------------------------------------------------------------------- elementwise


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def binary_cases():
    for op, fn in BINARY.items():
        away = 0.5 if op == "div" else 0.0  # keep divisors off zero
        rhs = lambda shape, dtype="float32", view=(): randn(shape, dtype, away=away, view=view)
        for dt in ("float32", "float64"):
            case(f"{op}/basic/{dt}", op, fn, [randn([2, 3], dt), rhs([2, 3], dt)])
        case(f"{op}/broadcast_2x3_3/float32", op, fn, [randn([2, 3]), rhs([3])])
        case(f"{op}/broadcast_3_2x3/float32", op, fn, [randn([3]), rhs([2, 3])])
        case(f"{op}/broadcast_2x1x3_4x1/float32", op, fn, [randn([2, 1, 3]), rhs([4, 1])])
        case(f"{op}/broadcast_2x1x3_4x1/float64", op, fn, [randn([2, 1, 3], "float64"), rhs([4, 1], "float64")])
        case(f"{op}/number_rhs/float32", op, fn, [randn([2, 3]), S(2.5)])
        case(f"{op}/number_lhs/float32", op, fn, [S(-1.5), rhs([2, 3])])
        case(f"{op}/number_rhs/float64", op, fn, [randn([2, 3], "float64"), S(0.75)])
        case(f"{op}/zero_dim_rhs/float32", op, fn, [randn([2, 3]), rhs([])])
        case(f"{op}/zero_dim_lhs/float32", op, fn, [randn([]), rhs([2, 3])])
        case(f"{op}/zero_dim_both/float32", op, fn, [randn([]), rhs([])])
        case(f"{op}/transposed/float32", op, fn,
             [randn([3, 2], view=[{"transpose": [0, 1]}]), rhs([2, 3])])
        case(f"{op}/expanded/float32", op, fn,
             [randn([3, 1], view=[{"expand": [3, 4]}]), rhs([4, 3], view=[{"transpose": [0, 1]}])])
        case(f"{op}/narrowed/float64", op, fn,
             [randn([4, 3], "float64", view=[{"narrow": [0, 1, 2]}]),
              rhs([2, 5], "float64", view=[{"narrow": [1, 1, 3]}])])
        case(f"{op}/empty_0x3_3/float32", op, fn, [randn([0, 3]), rhs([3])])
        # dtype promotion
        ib = ints([2, 3], 1, 5) if op == "div" else ints([2, 3], -4, 5)
        case(f"{op}/promote_int32_float32", op, fn, [ints([2, 3], -4, 5), rhs([2, 3])])
        case(f"{op}/promote_float32_float64", op, fn, [randn([2, 3]), rhs([2, 3], "float64")])
        case(f"{op}/promote_int32_number_2.5", op, fn, [ints([2, 3], -4, 5), S(2.5)])
        case(f"{op}/promote_int32_int32", op, fn, [ints([2, 3], -4, 5), ib])
        case(f"{op}/promote_int32_number_int", op, fn, [ints([2, 3], 1, 5), S(3)])
        case(f"{op}/promote_zero_dim_float64_float32", op, fn, [randn([], "float64"), rhs([3])])


def pow_cases():
    op, fn = "pow", torch.pow
    for dt in ("float32", "float64"):
        case(f"pow/tensor_exponent/{dt}", op, fn, [uniform([2, 3], 0.5, 2.0, dt), randn([2, 3], dt)])
        case(f"pow/number_exponent_2/{dt}", op, fn, [randn([2, 3], dt), S(2)])
    case("pow/number_exponent_3/float32", op, fn, [randn([2, 3]), S(3)])
    case("pow/number_exponent_0.5/float32", op, fn, [uniform([2, 3], 0.5, 2.0), S(0.5)])
    case("pow/number_exponent_-1.5/float64", op, fn, [uniform([2, 3], 0.5, 2.0, "float64"), S(-1.5)])
    case("pow/number_base_2/float32", op, fn, [S(2), randn([2, 3])])
    case("pow/number_base_0.5/float64", op, fn, [S(0.5), randn([2, 3], "float64")])
    case("pow/broadcast_2x3_3/float32", op, fn, [uniform([2, 3], 0.5, 2.0), randn([3])])
    case("pow/broadcast_zero_dim_exponent/float32", op, fn, [uniform([2, 3], 0.5, 2.0), randn([])])
    case("pow/transposed/float32", op, fn,
         [uniform([3, 2], 0.5, 2.0, view=[{"transpose": [0, 1]}]), randn([2, 3])])
    case("pow/zero_dim/float32", op, fn, [uniform([], 0.5, 2.0), S(3)])
    case("pow/empty_0x3/float32", op, fn, [randn([0, 3]), S(2)])
    case("pow/int32_number_2", op, fn, [ints([2, 3], -4, 5), S(2)])
    case("pow/promote_int32_number_0.5", op, fn, [ints([2, 3], 1, 9), S(0.5)])


UNARY = {
    # op: (torch fn, data maker(shape, dtype, view))
    "neg": (torch.neg, lambda s, d, v=(): randn(s, d, view=v)),
    "abs": (torch.abs, lambda s, d, v=(): randn(s, d, away=0.05, view=v)),
    "exp": (torch.exp, lambda s, d, v=(): randn(s, d, view=v)),
    "log": (torch.log, lambda s, d, v=(): uniform(s, 0.2, 3.0, d, view=v)),
    "sqrt": (torch.sqrt, lambda s, d, v=(): uniform(s, 0.2, 3.0, d, view=v)),
    "rsqrt": (torch.rsqrt, lambda s, d, v=(): uniform(s, 0.2, 3.0, d, view=v)),
    "sin": (torch.sin, lambda s, d, v=(): randn(s, d, scale=2.0, view=v)),
    "cos": (torch.cos, lambda s, d, v=(): randn(s, d, scale=2.0, view=v)),
    "tanh": (torch.tanh, lambda s, d, v=(): randn(s, d, scale=1.5, view=v)),
    "sigmoid": (torch.sigmoid, lambda s, d, v=(): randn(s, d, scale=2.0, view=v)),
    "relu": (torch.relu, lambda s, d, v=(): randn(s, d, away=0.05, view=v)),
    "gelu": (F.gelu, lambda s, d, v=(): randn(s, d, scale=1.5, view=v)),
    # step: Heaviside, 1 where x > 0 else 0; zero gradient everywhere
    "step": (lambda x: (x > 0).to(x.dtype), lambda s, d, v=(): randn(s, d, away=0.05, view=v)),
}


def unary_cases():
    for op, (fn, make) in UNARY.items():
        for dt in ("float32", "float64"):
            case(f"{op}/basic/{dt}", op, fn, [make([2, 3], dt)])
        case(f"{op}/transposed/float32", op, fn, [make([3, 2], "float32", [{"transpose": [0, 1]}])])
        case(f"{op}/expanded/float64", op, fn, [make([3, 1], "float64", [{"expand": [3, 2]}])])
        case(f"{op}/narrowed/float32", op, fn, [make([4, 3], "float32", [{"narrow": [0, 1, 2]}])])
        case(f"{op}/zero_dim/float32", op, fn, [make([], "float32")])
        case(f"{op}/empty_0x3/float32", op, fn, [make([0, 3], "float32")])
    case("neg/int32", "neg", torch.neg, [ints([2, 3], -5, 5)])
    case("abs/int32", "abs", torch.abs, [ints([2, 3], -5, 5)])
    case("sigmoid/extremes/float32", "sigmoid", torch.sigmoid, [lit([-30.0, -5.0, 0.5, 5.0, 30.0])])
    case("sigmoid/extremes/float64", "sigmoid", torch.sigmoid, [lit([-30.0, -5.0, 0.5, 5.0, 30.0], "float64")])
    case("tanh/extremes/float64", "tanh", torch.tanh, [lit([-20.0, -3.0, 0.25, 3.0, 20.0], "float64")])
    case("step/zero_is_zero/float32", "step", UNARY["step"][0], [lit([-1.0, 0.0, 2.0])])
    # Documented gradient conventions at kinks (PyTorch): relu'(0) = 0, |x|'(0) = 0
    case("relu/tie-convention/float64", "relu", torch.relu, [lit([-1.0, 0.0, 1.0], "float64")])
    case("abs/tie-convention/float64", "abs", torch.abs, [lit([-1.0, 0.0, 1.0], "float64")])

    lrelu = lambda x, *slope: F.leaky_relu(x, *slope)
    for dt in ("float32", "float64"):
        case(f"leakyRelu/basic/{dt}", "leakyRelu", lrelu, [randn([2, 3], dt, away=0.05)], [0.1])
    case("leakyRelu/default_slope/float32", "leakyRelu", lrelu, [randn([2, 3], away=0.05)])
    case("leakyRelu/slope_0.3_transposed/float32", "leakyRelu", lrelu,
         [randn([3, 2], away=0.05, view=[{"transpose": [0, 1]}])], [0.3])
    case("leakyRelu/zero_dim/float32", "leakyRelu", lrelu, [lit(-2.0)], [0.2])
    case("leakyRelu/empty_0x3/float32", "leakyRelu", lrelu, [randn([0, 3])], [0.1])
    # leaky_relu'(0) = slope in PyTorch (the x > 0 branch is strict)
    case("leakyRelu/tie-convention/float64", "leakyRelu", lrelu, [lit([-1.0, 0.0, 1.0], "float64")], [0.1])


def as_tensor_like(x, other):
    """torch.maximum/minimum need tensors: a number becomes a 0-d tensor of the other's dtype."""
    return torch.tensor(x, dtype=other.dtype) if not torch.is_tensor(x) else x


def max_min_elementwise_cases():
    for op, tfn in (("maximum", torch.maximum), ("minimum", torch.minimum)):
        fn = lambda a, b, tfn=tfn: tfn(as_tensor_like(a, b), as_tensor_like(b, a))
        for dt in ("float32", "float64"):
            case(f"{op}/basic/{dt}", op, fn, [randn([2, 3], dt), randn([2, 3], dt)])
        case(f"{op}/broadcast_2x3_3/float32", op, fn, [randn([2, 3]), randn([3])])
        case(f"{op}/broadcast_2x1x3_4x1/float32", op, fn, [randn([2, 1, 3]), randn([4, 1])])
        case(f"{op}/number_rhs/float32", op, fn, [randn([2, 3]), S(0.25)])
        case(f"{op}/zero_dim_rhs/float64", op, fn, [randn([2, 3], "float64"), randn([], "float64")])
        case(f"{op}/transposed/float32", op, fn,
             [randn([3, 2], view=[{"transpose": [0, 1]}]), randn([2, 3])])
        case(f"{op}/empty_0x3/float32", op, fn, [randn([0, 3]), randn([3])])
        case(f"{op}/int32", op, fn, [ints([2, 3], -5, 5), ints([2, 3], -5, 5)])
        case(f"{op}/promote_float32_float64", op, fn, [randn([2, 3]), randn([2, 3], "float64")])
        # ties: PyTorch splits the gradient equally between both operands
        case(f"{op}/tie-convention/float64", op, fn,
             [lit([1.0, 2.0, 3.0], "float64"), lit([1.0, 5.0, 0.0], "float64")])


def clamp_cases():
    op = "clamp"
    fn = lambda x, lo, hi: torch.clamp(x, min=lo, max=hi)
    for dt in ("float32", "float64"):
        case(f"clamp/min_max/{dt}", op, fn, [randn([2, 3], dt, away=0.05)], [-0.5, 0.5])
    case("clamp/min_only/float32", op, fn, [randn([2, 3], away=0.05)], [0.25, None])
    case("clamp/max_only/float32", op, fn, [randn([2, 3], away=0.05)], [None, -0.25])
    case("clamp/transposed/float32", op, fn, [randn([3, 2], away=0.05, view=[{"transpose": [0, 1]}])], [-0.5, 0.5])
    case("clamp/zero_dim/float32", op, fn, [lit(3.0)], [-1.0, 1.0])
    case("clamp/empty_0x3/float32", op, fn, [randn([0, 3])], [-1.0, 1.0])
    case("clamp/int32", op, fn, [ints([2, 3], -5, 5)], [-2, 2])
    # values exactly on the bounds get gradient 1 (bounds are inclusive) in PyTorch
    case("clamp/tie-convention/float64", op, fn, [lit([-2.0, -1.0, 0.0, 1.0, 2.0], "float64")], [-1.0, 1.0])


def where_cases():
    op, fn = "where", torch.where
    for dt in ("float32", "float64"):
        case(f"where/basic/{dt}", op, fn, [bools([2, 3]), randn([2, 3], dt), randn([2, 3], dt)])
    case("where/broadcast_cond_2x3_x_3_y_0d/float32", op, fn, [bools([2, 3]), randn([3]), randn([])])
    case("where/broadcast_cond_2x1_x_2x3_y_3/float32", op, fn, [bools([2, 1]), randn([2, 3]), randn([3])])
    case("where/number_y/float32", op, fn, [bools([2, 3]), randn([2, 3]), S(0.0)])
    case("where/number_x/float64", op, fn, [bools([2, 3]), S(1.5), randn([2, 3], "float64")])
    case("where/transposed/float32", op, fn,
         [bools([3, 2], view=[{"transpose": [0, 1]}]), randn([3, 2], view=[{"transpose": [0, 1]}]), randn([2, 3])])
    case("where/zero_dim/float32", op, fn, [lit(True, "bool"), randn([]), randn([])])
    case("where/empty_0x3/float32", op, fn, [bools([0, 3]), randn([0, 3]), randn([3])])
    case("where/promote_float32_float64", op, fn, [bools([2, 3]), randn([2, 3]), randn([2, 3], "float64")])
    case("where/int32", op, fn, [bools([2, 3]), ints([2, 3], -5, 5), ints([2, 3], -5, 5)])


# ----------------------------------------------------------------------------- comparisons


COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


def with_some_equal(a, b, mask):
    """Copy b and make it equal to a where mask is true (so eq/ge/le see exact ties)."""
    b2 = b.base.clone()
    b2[mask] = a.base[mask].to(b2.dtype)
    return T(b2, b.view)


def comparison_cases():
    for op, fn in COMPARE.items():
        for dt in ("float32", "float64"):
            a = randn([2, 3], dt)
            b = with_some_equal(a, randn([2, 3], dt), torch.tensor([[True, False, False], [False, True, False]]))
            case(f"{op}/basic/{dt}", op, fn, [a, b], grad=False)
        a = randn([2, 3])
        b = with_some_equal(T(a.base[0]), randn([3]), torch.tensor([False, True, False]))
        case(f"{op}/broadcast_2x3_3/float32", op, fn, [a, b], grad=False)
        case(f"{op}/broadcast_2x1_3/float32", op, fn, [randn([2, 1]), randn([3])], grad=False)
        case(f"{op}/number_rhs/float32", op, fn, [lit([[-1.0, 0.5, 2.0], [0.5, 3.0, -0.5]]), S(0.5)], grad=False)
        case(f"{op}/number_lhs/float32", op, fn, [S(0.5), lit([[-1.0, 0.5, 2.0], [0.5, 3.0, -0.5]])], grad=False)
        case(f"{op}/int32_number", op, fn, [lit([[-2, 0, 3], [1, 3, 5]], "int32"), S(3)], grad=False)
        case(f"{op}/int32_float32", op, fn,
             [lit([[-2, 0, 3], [1, 3, 5]], "int32"), lit([[-2.0, 0.5, 3.0], [1.5, 2.5, 5.0]])], grad=False)
        case(f"{op}/transposed/float32", op, fn,
             [randn([3, 2], view=[{"transpose": [0, 1]}]), randn([2, 3])], grad=False)
        case(f"{op}/zero_dim/float32", op, fn, [lit(1.0), lit(1.0)], grad=False)
        case(f"{op}/empty_0x3/float32", op, fn, [randn([0, 3]), randn([3])], grad=False)


# ----------------------------------------------------------------------------- reductions


def all_dims(x, dim):
    return list(range(x.dim())) if dim is None else dim


def red(tfn):
    """A torch reduction called as tensorgrad's f(x, dim?, keepdim?) with dim None = all."""
    def fn(x, dim=None, keepdim=False):
        if dim is None and not keepdim:
            return tfn(x)
        return tfn(x, dim=all_dims(x, dim), keepdim=keepdim)
    return fn


def int_reduce(tfn):
    """Integer sums come back as int64 in torch; tensorgrad keeps int32."""
    return lambda *a: red(tfn)(*a).to(torch.int32)


def sum_mean_cases():
    for op, tfn in (("sum", torch.sum), ("mean", torch.mean)):
        fn = red(tfn)
        for dt in ("float32", "float64"):
            case(f"{op}/all/{dt}", op, fn, [randn([2, 3, 4], dt)], [None, False])
        case(f"{op}/all_keepdim/float32", op, fn, [randn([2, 3, 4])], [None, True])
        case(f"{op}/dim0/float32", op, fn, [randn([2, 3, 4])], [0, False])
        case(f"{op}/dim-1_keepdim/float32", op, fn, [randn([2, 3, 4])], [-1, True])
        case(f"{op}/dim1/float64", op, fn, [randn([2, 3, 4], "float64")], [1, False])
        case(f"{op}/dims_0_2/float32", op, fn, [randn([2, 3, 4])], [[0, 2], False])
        case(f"{op}/dims_-1_0_keepdim/float64", op, fn, [randn([2, 3, 4], "float64")], [[-1, 0], True])
        case(f"{op}/transposed_dim1/float32", op, fn, [randn([4, 3], view=[{"transpose": [0, 1]}])], [1, False])
        case(f"{op}/expanded_all/float32", op, fn, [randn([3, 1], view=[{"expand": [3, 4]}])], [None, False])
        case(f"{op}/narrowed_dim0/float64", op, fn, [randn([4, 3], "float64", view=[{"narrow": [0, 1, 2]}])], [0, False])
        case(f"{op}/zero_dim/float32", op, fn, [randn([])], [None, False])
        case(f"{op}/empty_0x3_dim1/float32", op, fn, [randn([0, 3])], [1, False])
    # sum over an empty dimension is 0 (mean would be NaN, so it is not tested)
    case("sum/empty_0x3_dim0/float32", "sum", red(torch.sum), [randn([0, 3])], [0, False])
    case("sum/empty_0x3_all/float32", "sum", red(torch.sum), [randn([0, 3])], [None, False])
    case("sum/int32_all", "sum", int_reduce(torch.sum), [ints([2, 3], -5, 5)], [None, False])
    case("sum/int32_dim1", "sum", int_reduce(torch.sum), [ints([2, 3], -5, 5)], [1, False])


def values_indices(tfn):
    """torch.max/min(x, dim, keepdim) as tensorgrad's {values, indices} with int32 indices."""
    def fn(x, dim, keepdim=False):
        r = tfn(x, dim, keepdim)
        return SimpleNamespace(values=r.values, indices=r.indices.to(torch.int32))
    return fn


def max_min_reduction_cases():
    for op, tfn in (("max", torch.max), ("min", torch.min)):
        for dt in ("float32", "float64"):
            case(f"{op}/all/{dt}", op, tfn, [randn([2, 3, 4], dt)])
        case(f"{op}/all_transposed/float32", op, tfn, [randn([3, 2], view=[{"transpose": [0, 1]}])])
        case(f"{op}/zero_dim/float32", op, tfn, [randn([])])
        case(f"{op}/all_int32", op, tfn, [lit([[3, -1, 7], [2, 9, -4]], "int32")])
        dim_cases = [
            ("dim1/float32", [randn([2, 3, 4])], [1, False]),
            ("dim1/float64", [randn([2, 3, 4], "float64")], [1, False]),
            ("dim-1_keepdim/float32", [randn([2, 3, 4])], [-1, True]),
            ("dim0/float32", [randn([3, 4])], [0, False]),
            ("transposed_dim1/float32", [randn([4, 3], view=[{"transpose": [0, 1]}])], [1, False]),
            ("narrowed_dim0/float64", [randn([5, 3], "float64", view=[{"narrow": [0, 1, 3]}])], [0, False]),
            ("empty_0x3_dim1/float32", [randn([0, 3])], [1, False]),
            ("int32_dim1", [lit([[3, -1, 7], [2, 9, -4]], "int32")], [1, False]),
        ]
        fn = values_indices(tfn)
        for variant, inputs, args in dim_cases:
            for key in ("values", "indices"):
                case(f"{op}/{variant}/{key}", op, fn, inputs, args, output_key=key)
        # ties: the full reduction splits the gradient evenly over the tied maxima;
        # the dim reduction returns the FIRST tied index and sends the whole gradient there.
        tie = [1.0, 3.0, 3.0] if op == "max" else [3.0, 1.0, 1.0]
        case(f"{op}/tie-convention_all/float64", op, tfn, [lit(tie, "float64")])
        for key in ("values", "indices"):
            case(f"{op}/tie-convention_dim0/float64/{key}", op, fn, [lit(tie, "float64")], [0, False], output_key=key)


def argmax_cases():
    for op, tfn in (("argmax", torch.argmax), ("argmin", torch.argmin)):
        fn = lambda x, dim=None, keepdim=False, tfn=tfn: tfn(x, dim=dim, keepdim=keepdim).to(torch.int32)
        for dt in ("float32", "float64"):
            case(f"{op}/all/{dt}", op, fn, [randn([2, 3, 4], dt)], [None, False], grad=False)
        case(f"{op}/dim1/float32", op, fn, [randn([2, 3, 4])], [1, False], grad=False)
        case(f"{op}/dim-1_keepdim/float32", op, fn, [randn([2, 3, 4])], [-1, True], grad=False)
        case(f"{op}/dim0/float64", op, fn, [randn([3, 4], "float64")], [0, False], grad=False)
        case(f"{op}/transposed_dim1/float32", op, fn, [randn([4, 3], view=[{"transpose": [0, 1]}])], [1, False], grad=False)
        case(f"{op}/transposed_all/float32", op, fn, [randn([4, 3], view=[{"transpose": [0, 1]}])], [None, False], grad=False)
        case(f"{op}/int32_dim1", op, fn, [lit([[3, -1, 7], [2, 9, -4]], "int32")], [1, False], grad=False)
        case(f"{op}/zero_dim/float32", op, fn, [randn([])], [None, False], grad=False)
        case(f"{op}/empty_0x3_dim1/float32", op, fn, [randn([0, 3])], [1, False], grad=False)
        # documented: the first occurrence wins on ties
        case(f"{op}/tie-convention/float32", op, fn, [lit([[2.0, 5.0, 5.0, -1.0], [-1.0, 0.0, -1.0, 5.0]])], [1, False], grad=False)


def var_std_cases():
    for op, tfn in (("var", torch.var), ("std", torch.std)):
        fn = red(tfn)
        for dt in ("float32", "float64"):
            case(f"{op}/all/{dt}", op, fn, [randn([2, 3, 4], dt)], [None, False])
        case(f"{op}/all_keepdim/float32", op, fn, [randn([2, 3])], [None, True])
        case(f"{op}/dim0/float32", op, fn, [randn([3, 4])], [0, False])
        case(f"{op}/dim-1_keepdim/float64", op, fn, [randn([2, 3, 4], "float64")], [-1, True])
        case(f"{op}/dims_0_2/float32", op, fn, [randn([2, 3, 4])], [[0, 2], False])
        case(f"{op}/transposed_dim1/float32", op, fn, [randn([4, 3], view=[{"transpose": [0, 1]}])], [1, False])
        case(f"{op}/narrowed_dim1/float64", op, fn, [randn([3, 6], "float64", view=[{"narrow": [1, 1, 4]}])], [1, False])
        case(f"{op}/offset_mean/float32", op, fn, [T(torch.randn(2, 5).to(torch.float32) + 100)], [1, False],
             tol={"rtol": 1e-4, "atol": 1e-5})
        case(f"{op}/empty_0x3_dim1/float32", op, fn, [randn([0, 3])], [1, False])


def logsumexp_cases():
    op, fn = "logSumExp", red(lambda x, dim=None, keepdim=False: torch.logsumexp(x, all_dims(x, dim), keepdim))
    for dt in ("float32", "float64"):
        case(f"logSumExp/dim1/{dt}", op, fn, [randn([2, 3, 4], dt)], [1, False])
    case("logSumExp/dim-1_keepdim/float32", op, fn, [randn([2, 3, 4])], [-1, True])
    case("logSumExp/dims_0_1/float32", op, fn, [randn([2, 3, 4])], [[0, 1], False])
    case("logSumExp/all/float32", op, fn, [randn([2, 3])], [None, False])
    case("logSumExp/all_keepdim/float64", op, fn, [randn([2, 3], "float64")], [None, True])
    # torch's float32 gradient here is ~1.2x the default tolerance away from the exact value
    # (exp(x - lse) with lse rounded to float32 near 1000), so loosen this one case
    case("logSumExp/large_values/float32", op, fn, [lit([[1000.0, 1001.0, 999.5], [-1000.0, -1001.0, -999.0]])], [1, False],
         tol={"rtol": 1e-4, "atol": 1e-5})
    case("logSumExp/large_values/float64", op, fn, [lit([[1000.0, 1001.0, 999.5], [-1000.0, -1001.0, -999.0]], "float64")], [-1, False])
    case("logSumExp/transposed_dim1/float32", op, fn, [randn([4, 3], view=[{"transpose": [0, 1]}])], [1, False])
    case("logSumExp/zero_dim/float32", op, fn, [randn([])], [None, False])
    case("logSumExp/empty_0x3_dim1/float32", op, fn, [randn([0, 3])], [1, False])


def softmax_cases():
    for op, tfn in (("softmax", torch.softmax), ("logSoftmax", torch.log_softmax)):
        fn = lambda x, dim, tfn=tfn: tfn(x, dim)
        for dt in ("float32", "float64"):
            case(f"{op}/dim-1/{dt}", op, fn, [randn([2, 3, 4], dt)], [-1])
        case(f"{op}/dim0/float32", op, fn, [randn([3, 4])], [0])
        case(f"{op}/dim1_3d/float32", op, fn, [randn([2, 3, 4])], [1])
        case(f"{op}/large_values/float32", op, fn, [lit([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])], [1])
        case(f"{op}/large_values/float64", op, fn, [lit([[1000.0, 1001.0], [-1000.0, -1001.0]], "float64")], [-1])
        case(f"{op}/transposed/float32", op, fn, [randn([4, 3], view=[{"transpose": [0, 1]}])], [1])
        case(f"{op}/expanded/float64", op, fn, [randn([1, 4], "float64", view=[{"expand": [3, 4]}])], [1])
        case(f"{op}/zero_dim/float32", op, fn, [randn([])], [0])
        case(f"{op}/empty_0x3/float32", op, fn, [randn([0, 3])], [1])


# ----------------------------------------------------------------------------- linear algebra


def matmul_cases():
    op, fn = "matmul", torch.matmul
    for dt in ("float32", "float64"):
        case(f"matmul/1d_1d/{dt}", op, fn, [randn([4], dt), randn([4], dt)])
        case(f"matmul/2d_2d/{dt}", op, fn, [randn([2, 3], dt), randn([3, 4], dt)])
    case("matmul/2d_1d/float32", op, fn, [randn([2, 3]), randn([3])])
    case("matmul/1d_2d/float32", op, fn, [randn([3]), randn([3, 2])])
    case("matmul/3d_3d/float32", op, fn, [randn([2, 2, 3]), randn([2, 3, 2])])
    case("matmul/3d_3d/float64", op, fn, [randn([2, 2, 3], "float64"), randn([2, 3, 2], "float64")])
    case("matmul/broadcast_2x1x3x4_5x4x2/float32", op, fn, [randn([2, 1, 3, 4]), randn([5, 4, 2])],
         tol={"rtol": 1e-5, "atol": 2e-6})
    case("matmul/broadcast_3d_2d/float32", op, fn, [randn([2, 2, 3]), randn([3, 2])])
    case("matmul/broadcast_1d_3d/float32", op, fn, [randn([3]), randn([2, 3, 2])])
    case("matmul/broadcast_3d_1d/float64", op, fn, [randn([2, 2, 3], "float64"), randn([3], "float64")])
    case("matmul/transposed_both/float32", op, fn,
         [randn([3, 2], view=[{"transpose": [0, 1]}]), randn([4, 3], view=[{"transpose": [0, 1]}])])
    case("matmul/transposed_batched/float64", op, fn,
         [randn([2, 3, 2], "float64", view=[{"transpose": [1, 2]}]), randn([3, 2], "float64")])
    case("matmul/expanded/float32", op, fn, [randn([1, 3], view=[{"expand": [2, 3]}]), randn([3, 2])])
    case("matmul/narrowed/float32", op, fn, [randn([2, 5], view=[{"narrow": [1, 1, 3]}]), randn([3, 2])])
    case("matmul/empty_0x3_3x2/float32", op, fn, [randn([0, 3]), randn([3, 2])])
    case("matmul/empty_inner_2x0_0x3/float32", op, fn, [randn([2, 0]), randn([0, 3])])
    # no float32 x float64 case: torch.matmul does not type-promote (it raises)
    case("matmul/int32", op, fn, [ints([2, 3], -3, 4), ints([3, 2], -3, 4)])


def linalg_cases():
    solve, inv = torch.linalg.solve, torch.linalg.inv
    def lstsq(a, b):
        # torch 1.13 accepts a 1-D B in the forward but its backward fails on it; the vector
        # case is the k = 1 matrix case, so compute it that way (same values and gradients).
        # driver="gels" (QR, full-rank A) because the CPU default "gelsy" differs in the last
        # bits from run to run; every A here is full rank, so the solution is the same.
        if b.dim() == 1:
            return lstsq(a, b.unsqueeze(-1)).squeeze(-1)
        return torch.linalg.lstsq(a, b, driver="gels").solution

    case("linalg.solve/3x3_3x2/float64", "linalg.solve", solve, [well_conditioned([3, 3]), randn([3, 2], "float64")])
    case("linalg.solve/3x3_3/float64", "linalg.solve", solve, [well_conditioned([3, 3]), randn([3], "float64")])
    case("linalg.solve/batched_2x3x3_2x3x1/float64", "linalg.solve", solve,
         [well_conditioned([2, 3, 3]), randn([2, 3, 1], "float64")])
    case("linalg.solve/broadcast_2x3x3_3x2/float64", "linalg.solve", solve,
         [well_conditioned([2, 3, 3]), randn([3, 2], "float64")])
    case("linalg.solve/transposed/float64", "linalg.solve", solve,
         [T(well_conditioned([3, 3]).base, [{"transpose": [0, 1]}]), randn([3, 2], "float64")])
    case("linalg.solve/3x3_3x2/float32", "linalg.solve", solve, [well_conditioned([3, 3], "float32"), randn([3, 2])],
         tol={"rtol": 1e-4, "atol": 1e-5})
    case("linalg.inv/3x3/float64", "linalg.inv", inv, [well_conditioned([3, 3])])
    case("linalg.inv/4x4/float64", "linalg.inv", inv, [well_conditioned([4, 4])])
    case("linalg.inv/batched_2x3x3/float64", "linalg.inv", inv, [well_conditioned([2, 3, 3])])
    case("linalg.inv/transposed/float64", "linalg.inv", inv, [T(well_conditioned([3, 3]).base, [{"transpose": [0, 1]}])])
    case("linalg.inv/3x3/float32", "linalg.inv", inv, [well_conditioned([3, 3], "float32")],
         tol={"rtol": 1e-4, "atol": 1e-5})
    case("linalg.lstsq/6x3_6x2/float64", "linalg.lstsq", lstsq, [randn([6, 3], "float64"), randn([6, 2], "float64")])
    case("linalg.lstsq/6x3_6/float64", "linalg.lstsq", lstsq, [randn([6, 3], "float64"), randn([6], "float64")])
    case("linalg.lstsq/square_3x3_3x1/float64", "linalg.lstsq", lstsq, [well_conditioned([3, 3]), randn([3, 1], "float64")])
    case("linalg.lstsq/batched_2x5x2_2x5x1/float64", "linalg.lstsq", lstsq,
         [randn([2, 5, 2], "float64"), randn([2, 5, 1], "float64")])


# ----------------------------------------------------------------------------- shape ops


def shape_cases():
    reshape = lambda x, shape: x.reshape(shape)
    for dt in ("float32", "float64"):
        case(f"reshape/basic/{dt}", "reshape", reshape, [randn([2, 3, 4], dt)], [[6, 4]])
    case("reshape/infer_-1/float32", "reshape", reshape, [randn([2, 3, 4])], [[4, -1]])
    case("reshape/transposed/float32", "reshape", reshape, [randn([3, 2], view=[{"transpose": [0, 1]}])], [[6]])
    case("reshape/expanded/float32", "reshape", reshape, [randn([3, 1], view=[{"expand": [3, 2]}])], [[2, 3]])
    case("reshape/zero_dim_to_1/float32", "reshape", reshape, [randn([])], [[1]])
    case("reshape/1_to_zero_dim/float32", "reshape", reshape, [randn([1])], [[]])
    case("reshape/empty/float32", "reshape", reshape, [randn([0, 3])], [[3, 0]])
    case("reshape/int32", "reshape", reshape, [ints([2, 3], -5, 5)], [[3, 2]])

    view = lambda x, shape: x.view(shape)
    for dt in ("float32", "float64"):
        case(f"view/basic/{dt}", "view", view, [randn([2, 3, 4], dt)], [[4, 6]])
    case("view/infer_-1/float32", "view", view, [randn([2, 3, 4])], [[-1, 4]])
    case("view/narrowed_dim0/float32", "view", view, [randn([4, 3], view=[{"narrow": [0, 1, 2]}])], [[6]])
    case("view/zero_dim/float32", "view", view, [randn([])], [[1, 1]])
    case("view/empty/float32", "view", view, [randn([0, 3])], [[0, 1, 3]])

    flatten = lambda x, *a: torch.flatten(x, *a)
    for dt in ("float32", "float64"):
        case(f"flatten/all/{dt}", "flatten", flatten, [randn([2, 3, 4], dt)])
    case("flatten/start1/float32", "flatten", flatten, [randn([2, 3, 4])], [1])
    case("flatten/start0_end1/float32", "flatten", flatten, [randn([2, 3, 4])], [0, 1])
    case("flatten/start-2_end-1/float32", "flatten", flatten, [randn([2, 3, 4])], [-2, -1])
    case("flatten/transposed/float32", "flatten", flatten, [randn([3, 2], view=[{"transpose": [0, 1]}])])
    case("flatten/zero_dim/float32", "flatten", flatten, [randn([])])
    case("flatten/empty/float32", "flatten", flatten, [randn([0, 3])])

    transpose = lambda x, a, b: x.transpose(a, b)
    for dt in ("float32", "float64"):
        case(f"transpose/basic/{dt}", "transpose", transpose, [randn([2, 3], dt)], [0, 1])
    case("transpose/3d_negative/float32", "transpose", transpose, [randn([2, 3, 4])], [-1, 0])
    case("transpose/same_dim/float32", "transpose", transpose, [randn([2, 3])], [1, 1])
    case("transpose/of_transposed/float32", "transpose", transpose, [randn([3, 2, 2], view=[{"transpose": [0, 2]}])], [1, 2])
    case("transpose/empty/float32", "transpose", transpose, [randn([0, 3])], [0, 1])
    case("transpose/int32", "transpose", transpose, [ints([2, 3], -5, 5)], [0, 1])

    permute = lambda x, dims: x.permute(dims)
    for dt in ("float32", "float64"):
        case(f"permute/basic/{dt}", "permute", permute, [randn([2, 3, 4], dt)], [[2, 0, 1]])
    case("permute/negative/float32", "permute", permute, [randn([2, 3, 4])], [[-1, 0, 1]])
    case("permute/transposed/float32", "permute", permute, [randn([3, 2, 2], view=[{"transpose": [0, 1]}])], [[1, 2, 0]])
    case("permute/empty/float32", "permute", permute, [randn([0, 3])], [[1, 0]])
    case("permute/zero_dim/float32", "permute", permute, [randn([])], [[]])

    squeeze = lambda x, *d: x.squeeze(*d)
    for dt in ("float32", "float64"):
        case(f"squeeze/all/{dt}", "squeeze", squeeze, [randn([2, 1, 3, 1], dt)])
    case("squeeze/dim1/float32", "squeeze", squeeze, [randn([2, 1, 3, 1])], [1])
    case("squeeze/dim-1/float32", "squeeze", squeeze, [randn([2, 1, 3, 1])], [-1])
    case("squeeze/non_unit_dim_is_noop/float32", "squeeze", squeeze, [randn([2, 1, 3])], [0])
    case("squeeze/expanded/float32", "squeeze", squeeze, [randn([1, 3], view=[{"expand": [1, 3]}, {"unsqueeze": 0}])])
    case("squeeze/zero_dim/float32", "squeeze", squeeze, [randn([])])
    case("squeeze/empty/float32", "squeeze", squeeze, [randn([0, 1, 3])], [1])

    unsqueeze = lambda x, d: x.unsqueeze(d)
    for dt in ("float32", "float64"):
        case(f"unsqueeze/dim0/{dt}", "unsqueeze", unsqueeze, [randn([2, 3], dt)], [0])
    case("unsqueeze/dim-1/float32", "unsqueeze", unsqueeze, [randn([2, 3])], [-1])
    case("unsqueeze/dim1/float32", "unsqueeze", unsqueeze, [randn([2, 3])], [1])
    case("unsqueeze/transposed/float32", "unsqueeze", unsqueeze, [randn([3, 2], view=[{"transpose": [0, 1]}])], [2])
    case("unsqueeze/zero_dim/float32", "unsqueeze", unsqueeze, [randn([])], [0])
    case("unsqueeze/empty/float32", "unsqueeze", unsqueeze, [randn([0, 3])], [1])

    expand = lambda x, shape: x.expand(*shape)
    for dt in ("float32", "float64"):
        case(f"expand/row/{dt}", "expand", expand, [randn([3], dt)], [[2, 3]])
    case("expand/column/float32", "expand", expand, [randn([2, 1])], [[2, 4]])
    case("expand/keep_-1/float32", "expand", expand, [randn([2, 1])], [[-1, 4]])
    case("expand/new_leading_dims/float32", "expand", expand, [randn([3, 1])], [[2, 3, 4]])
    case("expand/zero_dim/float32", "expand", expand, [randn([])], [[2, 3]])
    case("expand/transposed/float32", "expand", expand, [randn([3, 1], view=[{"transpose": [0, 1]}])], [[2, 3]])
    case("expand/to_empty/float32", "expand", expand, [randn([1, 3])], [[0, 3]])

    narrow = lambda x, d, s, n: x.narrow(d, s, n)
    for dt in ("float32", "float64"):
        case(f"narrow/dim1/{dt}", "narrow", narrow, [randn([3, 5], dt)], [1, 1, 3])
    case("narrow/dim0/float32", "narrow", narrow, [randn([4, 3])], [0, 2, 2])
    case("narrow/dim-1/float32", "narrow", narrow, [randn([2, 3, 4])], [-1, 0, 2])
    case("narrow/zero_length/float32", "narrow", narrow, [randn([3, 4])], [1, 2, 0])
    case("narrow/transposed/float32", "narrow", narrow, [randn([5, 3], view=[{"transpose": [0, 1]}])], [1, 1, 3])
    case("narrow/empty/float32", "narrow", narrow, [randn([0, 3])], [1, 1, 2])


def cat_stack_cases():
    cat = lambda *a: torch.cat(list(a[:-1]), a[-1])
    stack = lambda *a: torch.stack(list(a[:-1]), a[-1])
    for dt in ("float32", "float64"):
        case(f"cat/dim0/{dt}", "cat", cat, [randn([2, 3], dt), randn([1, 3], dt)], [0])
        case(f"stack/dim0/{dt}", "stack", stack, [randn([2, 3], dt), randn([2, 3], dt)], [0])
    case("cat/dim1/float32", "cat", cat, [randn([2, 3]), randn([2, 1]), randn([2, 2])], [1])
    case("cat/dim-1_3d/float32", "cat", cat, [randn([2, 2, 1]), randn([2, 2, 3])], [-1])
    case("cat/single/float32", "cat", cat, [randn([2, 3])], [0])
    case("cat/with_empty/float32", "cat", cat, [randn([0, 3]), randn([2, 3])], [0])
    case("cat/transposed_expanded/float32", "cat", cat,
         [randn([3, 2], view=[{"transpose": [0, 1]}]), randn([1, 3], view=[{"expand": [2, 3]}])], [1])
    case("cat/promote_float32_float64", "cat", cat, [randn([2, 3]), randn([1, 3], "float64")], [0])
    case("cat/int32", "cat", cat, [ints([2, 3], -5, 5), ints([2, 3], -5, 5)], [1])
    case("stack/dim1/float32", "stack", stack, [randn([2, 3]), randn([2, 3]), randn([2, 3])], [1])
    case("stack/dim-1/float32", "stack", stack, [randn([2, 3]), randn([2, 3])], [-1])
    case("stack/zero_dim/float32", "stack", stack, [randn([]), randn([]), randn([])], [0])
    case("stack/transposed/float64", "stack", stack,
         [randn([3, 2], "float64", view=[{"transpose": [0, 1]}]), randn([2, 3], "float64")], [0])
    case("stack/empty/float32", "stack", stack, [randn([0, 3]), randn([0, 3])], [1])
    case("stack/int32", "stack", stack, [ints([3], -5, 5), ints([3], -5, 5)], [0])


def split_chunk_cases():
    def per_piece(name, op, fn, inputs, args, n):
        for i in range(n):
            case(f"{name}/{i}", op, fn, inputs, args, output_key=i)

    split = lambda x, s, d: torch.split(x, s, d)
    chunk = lambda x, c, d: torch.chunk(x, c, d)
    per_piece("split/size2_dim0/float32", "split", split, [randn([5, 3])], [2, 0], 3)
    per_piece("split/size2_dim0/float64", "split", split, [randn([4, 2], "float64")], [2, 0], 2)
    per_piece("split/sections_1_3_dim1/float32", "split", split, [randn([2, 4])], [[1, 3], 1], 2)
    per_piece("split/sections_dim-1/float64", "split", split, [randn([2, 2, 5], "float64")], [[2, 0, 3], -1], 3)
    per_piece("split/transposed/float32", "split", split, [randn([4, 2], view=[{"transpose": [0, 1]}])], [3, 1], 2)
    per_piece("chunk/3_of_5_dim0/float32", "chunk", chunk, [randn([5, 2])], [3, 0], 3)
    per_piece("chunk/2_dim1/float64", "chunk", chunk, [randn([2, 4], "float64")], [2, 1], 2)
    # torch.chunk(6 along dim, 4) gives 3 chunks of size ceil(6/4) = 2, not 4 chunks
    per_piece("chunk/4_of_6_gives_3/float32", "chunk", chunk, [randn([2, 6])], [4, 1], 3)
    per_piece("chunk/dim-1_transposed/float32", "chunk", chunk, [randn([4, 2], view=[{"transpose": [0, 1]}])], [2, -1], 2)


def gather_onehot_cases():
    gather = lambda x, idx, d: torch.gather(x, d, idx.long())
    for dt in ("float32", "float64"):
        case(f"gather/dim1/{dt}", "gather", gather, [randn([2, 4], dt), lit([[0, 3], [2, 2]], "int32")], [1])
    case("gather/dim0_repeated/float32", "gather", gather,
         [randn([3, 2]), lit([[0, 1], [2, 1], [0, 1], [0, 0]], "int32")], [0])
    case("gather/dim-1_smaller_index/float32", "gather", gather,
         [randn([3, 4]), lit([[3, 0], [1, 1]], "int32")], [-1])
    case("gather/3d_dim1/float32", "gather", gather,
         [randn([2, 3, 2]), lit([[[2, 0]], [[1, 1]]], "int32")], [1])
    case("gather/transposed/float32", "gather", gather,
         [randn([4, 2], view=[{"transpose": [0, 1]}]), lit([[1, 0, 3], [2, 2, 0]], "int32")], [1])
    case("gather/transposed_index/float64", "gather", gather,
         [randn([2, 3], "float64"), lit([[0, 1], [2, 0]], "int32", view=[{"transpose": [0, 1]}])], [1])
    case("gather/empty_index/float32", "gather", gather, [randn([2, 3]), T(torch.zeros(2, 0, dtype=torch.int32))], [1])
    case("gather/int32", "gather", gather, [ints([2, 3], -5, 5), lit([[2, 0], [1, 1]], "int32")], [1])

    onehot = lambda labels, n: F.one_hot(labels.long(), n).to(torch.int32)
    case("oneHot/1d", "oneHot", onehot, [lit([0, 2, 1, 3], "int32")], [4])
    case("oneHot/2d", "oneHot", onehot, [lit([[0, 2, 1], [4, 4, 0]], "int32")], [5])
    case("oneHot/zero_dim", "oneHot", onehot, [lit(2, "int32")], [3])
    case("oneHot/empty", "oneHot", onehot, [T(torch.zeros(0, dtype=torch.int32))], [3])
    case("oneHot/transposed", "oneHot", onehot, [lit([[0, 1], [2, 0]], "int32", view=[{"transpose": [0, 1]}])], [3])


# ----------------------------------------------------------------------------- creation and casts


def creation_cases():
    case("zeros/2x3", "zeros", lambda s: torch.zeros(s), [], [[2, 3]])
    case("zeros/float64", "zeros", lambda s, o: torch.zeros(s, dtype=DTYPES[o["dtype"]]), [], [[3], {"dtype": "float64"}])
    case("zeros/empty", "zeros", lambda s: torch.zeros(s), [], [[0, 3]])
    case("ones/2x3", "ones", lambda s: torch.ones(s), [], [[2, 3]])
    case("ones/int32", "ones", lambda s, o: torch.ones(s, dtype=DTYPES[o["dtype"]]), [], [[2], {"dtype": "int32"}])
    case("ones/zero_dim", "ones", lambda s: torch.ones(s), [], [[]])
    case("full/2x3", "full", lambda s, v: torch.full(s, v), [], [[2, 3], 1.5])
    case("full/float64", "full", lambda s, v, o: torch.full(s, v, dtype=DTYPES[o["dtype"]]), [], [[2], -0.25, {"dtype": "float64"}])
    case("arange/float_step", "arange", lambda *a: torch.arange(*a), [], [0, 2, 0.5])
    case("arange/negative_step", "arange", lambda *a: torch.arange(*a, dtype=torch.float32), [], [1, -1.25, -0.5])
    case("linspace/0_1_5", "linspace", torch.linspace, [], [0, 1, 5])
    case("linspace/-1_2_4", "linspace", torch.linspace, [], [-1, 2, 4])
    case("linspace/single", "linspace", torch.linspace, [], [3, 7, 1])
    case("eye/3", "eye", torch.eye, [], [3])
    case("eye/1", "eye", torch.eye, [], [1])

    to = lambda x, d: x.to(DTYPES[d])
    case("to/float32_to_int32_truncates", "to", to, [lit([-2.7, -0.5, 0.5, 2.7, 3.0])], ["int32"])
    case("to/float32_to_bool", "to", to, [lit([-1.5, 0.0, 0.25])], ["bool"])
    case("to/int32_to_float32", "to", to, [lit([[-3, 0], [7, 1]], "int32")], ["float32"])
    case("to/bool_to_float32", "to", to, [lit([True, False, True], "bool")], ["float32"])
    case("to/bool_to_int32", "to", to, [lit([True, False], "bool")], ["int32"])
    case("to/float32_to_float64_grad", "to", to, [randn([2, 3])], ["float64"])
    case("to/float64_to_float32_grad", "to", to, [randn([2, 3], "float64")], ["float32"])
    case("to/transposed", "to", to, [randn([3, 2], view=[{"transpose": [0, 1]}])], ["float64"])
    case("clone/transposed/float32", "clone", torch.clone, [randn([3, 2], view=[{"transpose": [0, 1]}])])


# ----------------------------------------------------------------------------- main


CALL_CONVENTIONS = {
    "default": "tg[op](...inputs, ...args); inputs are tensors (views applied) or plain numbers "
               "({scalar}); dotted op names (linalg.solve) resolve through tg.linalg",
    "cat": "tg.cat([...inputs], ...args)  i.e. cat(tensors, dim)",
    "stack": "tg.stack([...inputs], ...args)  i.e. stack(tensors, dim)",
    "gather": "tg.gather(inputs[0], args[0], inputs[1])  i.e. gather(input, dim, index); index is int32",
    "clamp": "tg.clamp(x, min, max) where either min or max may be null (no bound)",
    "max": "args [] -> plain tensor over all elements; args [dim, keepdim] -> {values, indices}, "
           "checked through outputKey",
    "min": "same as max",
    "split": "split(x, splitSizeOrSections, dim) returns a list; outputKey is the list index",
    "chunk": "chunk(x, chunks, dim) returns a list; outputKey is the list index",
    "reductions": "sum mean var std logSumExp argmax argmin take args [dim, keepdim]; dim null means all "
                  "dims (keepdim true then keeps every dim as size 1)",
    "permute": "args [[...dims]]: tg.permute(x, dims)",
    "expand": "args [[...shape]]: tg.expand(x, shape); -1 keeps a dim",
    "squeeze": "args [] squeezes every size-1 dim; args [dim] only that dim (no-op if it is not 1)",
    "leakyRelu": "args [] uses PyTorch's default slope 0.01",
    "oneHot": "tg.oneHot(labels, numClasses) -> int32",
    "zeros ones full arange linspace eye": "creation: no inputs, args are the call's arguments; "
                                           "a trailing {dtype} object is the options argument",
    "to": "method only: inputs[0].to(args[0])",
    "clone": "method (or function): inputs[0].clone()",
    "step": "Heaviside (x > 0 ? 1 : 0); gradient is zero (golden grads are zeros, not null)",
}


def main():
    for build in (binary_cases, pow_cases, unary_cases, max_min_elementwise_cases, clamp_cases,
                  where_cases, comparison_cases, sum_mean_cases, max_min_reduction_cases,
                  argmax_cases, var_std_cases, logsumexp_cases, softmax_cases, matmul_cases,
                  linalg_cases, shape_cases, cat_stack_cases, split_chunk_cases,
                  gather_onehot_cases, creation_cases):
        build()
    doc = {
        "generator": "tests/golden/generate.py",
        "torch": torch.__version__,
        "callConventions": CALL_CONVENTIONS,
        "cases": CASES,
    }
    with open(OUT_PATH, "w") as f:
        json.dump(doc, f, allow_nan=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(CASES)} cases to {OUT_PATH} ({os.path.getsize(OUT_PATH)} bytes)")


if __name__ == "__main__":
    main()
