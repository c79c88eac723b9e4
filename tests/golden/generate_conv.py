#!/usr/bin/python3
"""Generate tests/golden/conv.json: PyTorch golden values for conv2d and 2-D pooling.

Run from anywhere:  /usr/bin/python3 tests/golden/generate_conv.py

Each case names a tensorgrad call (conv2d / maxPool2d / avgPool2d / adaptiveAvgPool2d in
tg.nn.functional) with its tensors and camelCase options, and records PyTorch's output and
the gradients d(sum(out * g)) / d(input) of every float input for a random upstream g.
Tensors may carry view steps (permute / transpose / narrow) applied to their base tensor, so
non-contiguous inputs are covered; gradients are always w.r.t. the base tensor.
"""

import json
import math
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_num_threads(1)
GRAD_GEN = torch.Generator().manual_seed(4321)

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv.json")
TOL = {"float32": {"rtol": 1e-4, "atol": 1e-5}, "float64": {"rtol": 1e-9, "atol": 1e-11}}
CASES = []


class T:
    """A tensor input: a base tensor plus view steps applied in order."""

    def __init__(self, base, view=()):
        self.base = base
        self.view = list(view)


def randn(shape, dtype=torch.float64, view=()):
    return T(torch.randn(shape, dtype=torch.float64).to(dtype), view)


def ties(shape, dtype=torch.float64):
    """Small integers: many equal values, so max pooling's tie rule matters."""
    return T(torch.randint(0, 3, shape).to(dtype))


def apply_view(x, step):
    (kind, arg), = step.items()
    if kind == "permute":
        return x.permute(*arg)
    if kind == "transpose":
        return x.transpose(*arg)
    if kind == "narrow":
        return x.narrow(*arg)
    raise ValueError(step)


def flat(t):
    t = t.detach().contiguous().reshape(-1)
    if t.is_floating_point():
        vals = [float(v) for v in t.tolist()]
        assert all(math.isfinite(v) for v in vals)
        return vals
    return [int(v) for v in t.tolist()]


def tj(t):
    name = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int32"}[t.dtype]
    return {"data": flat(t), "shape": list(t.shape), "dtype": name}


def case(name, op, tensors, torch_fn, args=(), opts=None, *, indices=False):
    """tensors: dict name -> T (x first); torch_fn(**realised) -> output (or (values, indices))."""
    assert not any(c["name"] == name for c in CASES), name
    bases, realised, specs = {}, {}, {}
    for key, spec in tensors.items():
        if spec is None:
            continue
        base = spec.base.detach().clone().requires_grad_(True)
        x = base
        for step in spec.view:
            x = apply_view(x, step)
        bases[key], realised[key] = base, x
        specs[key] = tj(base)
        if spec.view:
            specs[key]["view"] = spec.view
    result = torch_fn(**realised)
    out, idx = (result if indices else (result, None))
    g = torch.randn(out.shape, generator=GRAD_GEN, dtype=torch.float64).to(out.dtype)
    (out * g).sum().backward()
    entry = {
        "name": name,
        "op": op,
        "inputs": specs,
        "args": list(args),
        "opts": opts or {},
        "output": tj(out),
        "gradOutput": tj(g),
        "grads": {k: tj(b.grad) for k, b in bases.items()},
        "tol": TOL["float32" if out.dtype == torch.float32 else "float64"],
    }
    if idx is not None:
        entry["indices"] = tj(idx)
    CASES.append(entry)


def torch_padding(p):
    return tuple(p) if isinstance(p, list) else p


def conv(name, x, w, b=None, **o):
    """o: stride / padding / dilation / groups in tensorgrad's spelling (lists for pairs)."""
    kw = {k: torch_padding(v) for k, v in o.items()}
    case(name, "conv2d", {"x": x, "weight": w, "bias": b}, lambda x, weight, bias=None: F.conv2d(x, weight, bias, **kw), opts=o)


def conv_cases():
    f32 = torch.float32
    conv("conv2d/basic", randn([2, 3, 5, 5]), randn([4, 3, 3, 3]), randn([4]))
    conv("conv2d/no-bias", randn([2, 2, 4, 6]), randn([3, 2, 2, 3]))
    conv("conv2d/stride2-pad1", randn([2, 3, 7, 6]), randn([5, 3, 3, 3]), randn([5]), stride=2, padding=1)
    conv("conv2d/stride-pair-pad-pair", randn([1, 2, 9, 8]), randn([3, 2, 3, 2]), randn([3]), stride=[2, 3], padding=[1, 2])
    conv("conv2d/same-3x3", randn([1, 2, 6, 5]), randn([3, 2, 3, 3]), randn([3]), padding="same")
    conv("conv2d/same-even-4x2-asymmetric", randn([2, 2, 5, 6]), randn([3, 2, 4, 2]), randn([3]), padding="same")
    conv("conv2d/same-dilated-2x3", randn([1, 3, 7, 7]), randn([2, 3, 2, 3]), randn([2]), padding="same", dilation=2)
    conv("conv2d/valid", randn([2, 1, 6, 7]), randn([2, 1, 3, 4]), randn([2]), padding="valid")
    conv("conv2d/dilation2", randn([1, 2, 9, 10]), randn([3, 2, 3, 3]), randn([3]), dilation=2)
    conv("conv2d/dilation-stride-pad-pairs", randn([2, 2, 11, 9]), randn([2, 2, 3, 2]), randn([2]), dilation=[2, 3], stride=[1, 2], padding=[2, 1])
    conv("conv2d/groups2", randn([2, 4, 6, 6]), randn([6, 2, 3, 3]), randn([6]), groups=2, padding=1)
    conv("conv2d/depthwise", randn([2, 3, 5, 5]), randn([6, 1, 3, 3]), randn([6]), groups=3, stride=2)
    conv("conv2d/groups3-dilated", randn([1, 6, 8, 7]), randn([3, 2, 2, 2]), None, groups=3, dilation=2, padding=1)
    conv("conv2d/1x1", randn([3, 4, 5, 3]), randn([2, 4, 1, 1]), randn([2]))
    conv("conv2d/odd-5x1-stride3", randn([1, 3, 11, 7]), randn([4, 3, 5, 1]), randn([4]), stride=3, padding=[2, 0])
    conv("conv2d/kernel-equals-padded-input", randn([2, 2, 3, 2]), randn([3, 2, 5, 4]), randn([3]), padding=1)
    conv("conv2d/curriculum-6x6-pad1-2x2", randn([1, 1, 6, 6]), randn([2, 1, 2, 2]), randn([2]), padding=1)
    conv("conv2d/curriculum-8x8-pad1-3x3-stride2", randn([1, 1, 8, 8]), randn([2, 1, 3, 3]), randn([2]), padding=1, stride=2)
    # non-contiguous inputs: channels-last storage, spatially transposed, a narrowed slice
    conv("conv2d/noncontiguous-channels-last", randn([2, 5, 6, 3], view=[{"permute": [0, 3, 1, 2]}]), randn([4, 3, 3, 3]), randn([4]), padding=1)
    conv("conv2d/noncontiguous-transposed-hw", randn([2, 3, 7, 5], view=[{"transpose": [2, 3]}]), randn([2, 3, 2, 3]), randn([2]), stride=2)
    conv("conv2d/noncontiguous-narrowed", randn([2, 5, 8, 8], view=[{"narrow": [1, 1, 3]}, {"narrow": [3, 2, 5]}]), randn([2, 3, 3, 3]), None)
    conv("conv2d/noncontiguous-weight", randn([1, 3, 5, 5]), randn([3, 3, 3, 4], view=[{"transpose": [0, 3]}]), randn([4]), padding=1)
    conv("conv2d/unbatched", randn([3, 6, 6]), randn([4, 3, 3, 3]), randn([4]), padding="same")
    conv("conv2d/float32", randn([2, 3, 8, 8], f32), randn([4, 3, 3, 3], f32), randn([4], f32), padding=1, stride=2)
    conv("conv2d/float32-groups", randn([2, 4, 7, 7], f32), randn([4, 2, 3, 3], f32), randn([4], f32), groups=2)


def mp(name, x, k, **o):
    kw = {"stride": o.get("stride"), "padding": o.get("padding", 0), "dilation": o.get("dilation", 1), "ceil_mode": o.get("ceilMode", False)}
    kw = {key: torch_padding(v) for key, v in kw.items()}
    k_t = torch_padding(k)
    case(name, "maxPool2d", {"x": x}, lambda x: F.max_pool2d(x, k_t, return_indices=True, **kw), args=[k], opts=o, indices=True)


def maxpool_cases():
    mp("maxPool2d/k2", randn([2, 3, 6, 6]), 2)
    mp("maxPool2d/k2-odd-input", randn([1, 2, 7, 5]), 2)
    mp("maxPool2d/k3-s2-p1", randn([1, 2, 7, 7]), 3, stride=2, padding=1)
    mp("maxPool2d/k2-ceil", randn([1, 2, 7, 7]), 2, ceilMode=True)
    mp("maxPool2d/k3-s2-p1-ceil", randn([2, 1, 6, 6]), 3, stride=2, padding=1, ceilMode=True)
    mp("maxPool2d/k3-s3-p1-ceil-last-window-dropped", randn([1, 1, 5, 5]), 3, stride=3, padding=1, ceilMode=True)
    mp("maxPool2d/dilation2", randn([1, 2, 9, 8]), 3, dilation=2)
    mp("maxPool2d/dilation-pad-ceil", randn([1, 1, 8, 9]), 2, dilation=[2, 3], padding=1, stride=2, ceilMode=True)
    mp("maxPool2d/kernel-pair-stride-pair", randn([2, 2, 6, 9]), [2, 3], stride=[1, 2])
    mp("maxPool2d/overlapping-stride1", randn([1, 3, 5, 5]), 3, stride=1, padding=1)
    mp("maxPool2d/tie-convention/first-wins", ties([2, 2, 6, 6]), 2)
    mp("maxPool2d/tie-convention/overlapping", ties([1, 2, 5, 5]), 3, stride=1)
    mp("maxPool2d/noncontiguous-channels-last", randn([2, 6, 6, 3], view=[{"permute": [0, 3, 1, 2]}]), 2)
    mp("maxPool2d/noncontiguous-narrowed", randn([1, 3, 9, 8], view=[{"narrow": [2, 1, 7]}]), 3, stride=2)
    mp("maxPool2d/unbatched", randn([3, 6, 6]), 2)
    mp("maxPool2d/float32", randn([2, 3, 8, 8], torch.float32), 2)


def ap(name, x, k, **o):
    kw = {
        "stride": o.get("stride"),
        "padding": o.get("padding", 0),
        "ceil_mode": o.get("ceilMode", False),
        "count_include_pad": o.get("countIncludePad", True),
        "divisor_override": o.get("divisorOverride"),
    }
    kw = {key: torch_padding(v) for key, v in kw.items()}
    k_t = torch_padding(k)
    case(name, "avgPool2d", {"x": x}, lambda x: F.avg_pool2d(x, k_t, **kw), args=[k], opts=o)


def avgpool_cases():
    ap("avgPool2d/k2", randn([2, 3, 6, 6]), 2)
    ap("avgPool2d/k2-odd-input", randn([1, 2, 7, 5]), 2)
    ap("avgPool2d/k3-s2-p1", randn([1, 2, 7, 7]), 3, stride=2, padding=1)
    ap("avgPool2d/k3-s2-p1-exclude-pad", randn([1, 2, 7, 7]), 3, stride=2, padding=1, countIncludePad=False)
    ap("avgPool2d/k2-ceil", randn([1, 2, 7, 7]), 2, ceilMode=True)
    ap("avgPool2d/k3-s2-p1-ceil", randn([2, 1, 6, 6]), 3, stride=2, padding=1, ceilMode=True)
    ap("avgPool2d/k3-s2-p1-ceil-exclude-pad", randn([2, 1, 6, 6]), 3, stride=2, padding=1, ceilMode=True, countIncludePad=False)
    ap("avgPool2d/k2-s3-ceil-exclude-pad", randn([1, 1, 8, 7]), 2, stride=3, padding=1, ceilMode=True, countIncludePad=False)
    ap("avgPool2d/k3-s3-p1-ceil-last-window-dropped", randn([1, 1, 5, 5]), 3, stride=3, padding=1, ceilMode=True)
    ap("avgPool2d/kernel-pair-pad-pair", randn([2, 2, 6, 9]), [2, 4], stride=[1, 2], padding=[1, 2])
    ap("avgPool2d/divisor-override", randn([1, 2, 6, 6]), 3, stride=2, padding=1, divisorOverride=5)
    ap("avgPool2d/noncontiguous-channels-last", randn([2, 6, 6, 3], view=[{"permute": [0, 3, 1, 2]}]), 2)
    ap("avgPool2d/unbatched", randn([3, 5, 5]), 3, stride=1, padding=1)
    ap("avgPool2d/float32", randn([2, 3, 8, 8], torch.float32), 2)


def aap(name, x, size):
    size_t = tuple(size) if isinstance(size, list) else size
    case(name, "adaptiveAvgPool2d", {"x": x}, lambda x: F.adaptive_avg_pool2d(x, size_t), args=[size])


def adaptive_cases():
    aap("adaptiveAvgPool2d/global", randn([2, 3, 5, 7]), 1)
    aap("adaptiveAvgPool2d/divisible", randn([2, 2, 8, 6]), [4, 3])
    aap("adaptiveAvgPool2d/non-divisible-7to3", randn([2, 3, 7, 7]), 3)
    aap("adaptiveAvgPool2d/non-divisible-pair", randn([1, 2, 10, 5]), [3, 4])
    aap("adaptiveAvgPool2d/larger-than-input", randn([1, 2, 3, 4]), [5, 6])
    aap("adaptiveAvgPool2d/none-keeps-dim", randn([1, 2, 5, 6]), [None, 4])
    aap("adaptiveAvgPool2d/noncontiguous", randn([2, 7, 6, 3], view=[{"permute": [0, 3, 1, 2]}]), [3, 4])
    aap("adaptiveAvgPool2d/unbatched", randn([3, 9, 6]), [4, 4])
    aap("adaptiveAvgPool2d/float32", randn([2, 3, 7, 9], torch.float32), [3, 5])


def main():
    conv_cases()
    maxpool_cases()
    avgpool_cases()
    adaptive_cases()
    with open(OUT_PATH, "w") as f:
        json.dump({"torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(CASES)} cases to {OUT_PATH}")


if __name__ == "__main__":
    main()
