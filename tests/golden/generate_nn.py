#!/usr/bin/python3
"""Generate tests/golden/nn.json: PyTorch golden values for tensorgrad's nn (functional ops, losses, layers).

Run from anywhere:  /usr/bin/python3 tests/golden/generate_nn.py

"cases": each calls tg.F[fn](...args) where an argument (or an options-object field) written
"$i" stands for inputs[i].  The case holds the forward output and, when some input requires
grad, the gradients d(sum(out * gradOutput))/d(input) (gradOutput omitted for scalar outputs:
plain backward()).  "after" holds inputs the call modifies in place (batch-norm running stats).
"modules": a Sequential(Linear, BatchNorm1d, ReLU, Linear) with its state dict, printed text,
a training step and an eval step; "batchnorm": multi-step BatchNorm1d/2d runs (running stats,
num_batches_tracked, momentum=None); "reprs": module texts.

tensorgrad has no int64: class-index targets are written as int32 and widened for torch here;
num_batches_tracked (int64 in torch) is written as int32.  Non-finite floats are written as the
strings "NaN", "Infinity", "-Infinity".
"""

import json
import math
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_num_threads(1)
OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn.json")
TOL = {"float32": {"rtol": 2e-5, "atol": 2e-6}, "float64": {"rtol": 1e-10, "atol": 1e-12}}
DT = {"float32": torch.float32, "float64": torch.float64}
CASES = []


def num(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def tensor_json(t):
    t = t.detach()
    flat = t.contiguous().reshape(-1)
    if t.dtype in (torch.int64, torch.int32):
        data, dtype = [int(v) for v in flat.tolist()], "int32"
    elif t.dtype == torch.bool:
        data, dtype = [bool(v) for v in flat.tolist()], "bool"
    else:
        data, dtype = [num(float(v)) for v in flat.tolist()], {torch.float32: "float32", torch.float64: "float64"}[t.dtype]
    return {"data": data, "shape": list(t.shape), "dtype": dtype}


class I:
    """A case input: a tensor, whether it requires grad, and whether the call mutates it."""

    def __init__(self, t, grad=True, mutated=False):
        self.t = t
        self.grad = grad and t.is_floating_point()
        self.mutated = mutated


def randn(*shape, dtype="float64", scale=1.0, away=0.0, grad=True):
    x = torch.randn(shape, dtype=torch.float64) * scale
    if away:
        x = torch.sign(x) * (x.abs() + away)
        x[x == 0] = away
    return I(x.to(DT[dtype]), grad)


def rand(*shape, lo=0.0, hi=1.0, dtype="float64", grad=True):
    return I((torch.rand(shape, dtype=torch.float64) * (hi - lo) + lo).to(DT[dtype]), grad)


def labels(*shape, c, ignore=None, ignore_every=0):
    t = torch.randint(0, c, shape)
    if ignore is not None and ignore_every:
        flat = t.view(-1)
        flat[::ignore_every] = ignore
    return I(t, grad=False)


def lit(data, dtype="float64", grad=True):
    if dtype == "int32":
        return I(torch.tensor(data, dtype=torch.int64), grad=False)
    return I(torch.tensor(data, dtype=DT[dtype]), grad)


def resolve(a, xs):
    if isinstance(a, str) and a.startswith("$"):
        return xs[int(a[1:])]
    if isinstance(a, dict):
        return {k: resolve(v, xs) for k, v in a.items()}
    if isinstance(a, (list, tuple)):
        return [resolve(v, xs) for v in a]
    return a


def case(name, fn, inputs, args, torch_fn, tol=None):
    """torch_fn(*realised_inputs) computes the expected output."""
    assert not any(c["name"] == name for c in CASES), name
    xs = []
    for inp in inputs:
        t = inp.t.detach().clone()
        if inp.grad:
            t.requires_grad_(True)
        xs.append(t)
    specs = []
    for inp, x in zip(inputs, xs):
        j = tensor_json(x)
        j["requiresGrad"] = inp.grad
        specs.append(j)
    out = torch_fn(*xs)
    c = {"name": name, "fn": fn, "inputs": specs, "args": args, "output": tensor_json(out)}
    if any(inp.grad for inp in inputs) and out.requires_grad:
        if out.dim() == 0:
            out.backward()
        else:
            g = torch.randn(out.shape, dtype=out.dtype)
            c["gradOutput"] = tensor_json(g)
            out.backward(g)
        c["grads"] = [tensor_json(x.grad) if inp.grad else None for inp, x in zip(inputs, xs)]
    after = {str(i): tensor_json(x) for i, (inp, x) in enumerate(zip(inputs, xs)) if inp.mutated}
    if after:
        c["after"] = after
    dtypes = {s["dtype"] for s in specs} | {c["output"]["dtype"]}
    c["tol"] = tol or (TOL["float32"] if "float32" in dtypes else TOL["float64"])
    CASES.append(c)


# ----------------------------------------------------------------------------- activations

for dt in ("float64", "float32"):
    case(f"relu/{dt}", "relu", [randn(3, 4, dtype=dt, away=0.05)], ["$0"], F.relu)
    case(f"sigmoid/{dt}", "sigmoid", [randn(3, 4, dtype=dt, scale=3)], ["$0"], torch.sigmoid)
    case(f"tanh/{dt}", "tanh", [randn(2, 3, 4, dtype=dt)], ["$0"], torch.tanh)
    case(f"gelu/{dt}", "gelu", [randn(3, 4, dtype=dt, scale=2)], ["$0"], F.gelu)
    case(f"gelu-tanh/{dt}", "gelu", [randn(3, 4, dtype=dt, scale=2)], ["$0", {"approximate": "tanh"}], lambda x: F.gelu(x, approximate="tanh"))
    case(f"leakyRelu-default/{dt}", "leakyRelu", [randn(3, 4, dtype=dt, away=0.05)], ["$0"], F.leaky_relu)
    case(f"leakyRelu-0.2/{dt}", "leakyRelu", [randn(3, 4, dtype=dt, away=0.05)], ["$0", 0.2], lambda x: F.leaky_relu(x, 0.2))
for dim in (0, 1, -1):
    case(f"softmax/dim{dim}", "softmax", [randn(2, 3, 4, scale=2)], ["$0", dim], lambda x, d=dim: F.softmax(x, d))
    case(f"logSoftmax/dim{dim}", "logSoftmax", [randn(2, 3, 4, scale=2)], ["$0", dim], lambda x, d=dim: F.log_softmax(x, d))
case("softmax/large-logits", "softmax", [lit([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]])], ["$0", 1], lambda x: F.softmax(x, 1))
case("logSoftmax/large-logits/float32", "logSoftmax", [lit([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]], "float32")], ["$0", 1], lambda x: F.log_softmax(x, 1))

# ----------------------------------------------------------------------------- linear

for dt in ("float64", "float32"):
    case(f"linear/2d/{dt}", "linear", [randn(5, 4, dtype=dt), randn(3, 4, dtype=dt), randn(3, dtype=dt)], ["$0", "$1", "$2"], F.linear)
    case(f"linear/3d-input/{dt}", "linear", [randn(2, 3, 4, dtype=dt), randn(6, 4, dtype=dt), randn(6, dtype=dt)], ["$0", "$1", "$2"], F.linear)
case("linear/no-bias", "linear", [randn(5, 4), randn(3, 4)], ["$0", "$1"], F.linear)
case("linear/1d-input", "linear", [randn(4), randn(3, 4), randn(3)], ["$0", "$1", "$2"], F.linear)

# ----------------------------------------------------------------------------- dropout (deterministic cases)

case("dropout/p0-training", "dropout", [randn(3, 4)], ["$0", 0.0, True], lambda x: F.dropout(x, 0.0, True))
case("dropout/eval-identity", "dropout", [randn(3, 4)], ["$0", 0.5, False], lambda x: F.dropout(x, 0.5, False))
case("dropout/p1-zeros", "dropout", [randn(3, 4)], ["$0", 1.0, True], lambda x: F.dropout(x, 1.0, True))

# ----------------------------------------------------------------------------- batch norm


def bn_inputs(shape, dt="float64", running=True, affine=True):
    c = shape[1]
    ins = [randn(*shape, dtype=dt, scale=2)]
    ins[0].t = ins[0].t + torch.linspace(-1, 2, c, dtype=ins[0].t.dtype).view([1, c] + [1] * (len(shape) - 2))
    if running:
        ins.append(I(torch.randn(c, dtype=DT[dt]) * 0.1, grad=False, mutated=True))
        ins.append(I(torch.rand(c, dtype=DT[dt]) + 0.5, grad=False, mutated=True))
    if affine:
        ins.append(randn(c, dtype=dt))
        ins.append(randn(c, dtype=dt))
    return ins


for dt in ("float64", "float32"):
    for shape in ([8, 3], [4, 3, 5], [4, 3, 5, 5]):
        tag = "x".join(map(str, shape))
        case(f"batchNorm/train/{tag}/{dt}", "batchNorm", bn_inputs(shape, dt), ["$0", "$1", "$2", "$3", "$4", True, 0.1, 1e-5],
             lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b, True, 0.1, 1e-5))
        case(f"batchNorm/eval/{tag}/{dt}", "batchNorm", bn_inputs(shape, dt), ["$0", "$1", "$2", "$3", "$4", False, 0.1, 1e-5],
             lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b, False, 0.1, 1e-5))
case("batchNorm/train/momentum0.3-eps1e-3", "batchNorm", bn_inputs([6, 4]), ["$0", "$1", "$2", "$3", "$4", True, 0.3, 1e-3],
     lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b, True, 0.3, 1e-3))
case("batchNorm/train/no-running-stats-no-affine", "batchNorm", bn_inputs([6, 4], running=False, affine=False), ["$0", None, None, None, None, True],
     lambda x: F.batch_norm(x, None, None, None, None, True))
case("batchNorm/train/options-object", "batchNorm", bn_inputs([5, 2, 3, 3]), ["$0", "$1", "$2", {"weight": "$3", "bias": "$4", "training": True, "momentum": 0.2}],
     lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b, True, 0.2))

# ----------------------------------------------------------------------------- regression losses

for red in ("mean", "sum", "none"):
    for shape in ([5], [3, 4], [2, 3, 4]):
        tag = "x".join(map(str, shape))
        case(f"mseLoss/{red}/{tag}", "mseLoss", [randn(*shape), randn(*shape)], ["$0", "$1", {"reduction": red}], lambda x, y, r=red: F.mse_loss(x, y, reduction=r))
        case(f"l1Loss/{red}/{tag}", "l1Loss", [randn(*shape), randn(*shape)], ["$0", "$1", {"reduction": red}], lambda x, y, r=red: F.l1_loss(x, y, reduction=r))
    for delta in (1.0, 0.5, 2.0):
        case(f"huberLoss/{red}/delta{delta}", "huberLoss", [randn(4, 5, scale=2), randn(4, 5, scale=2)], ["$0", "$1", {"reduction": red, "delta": delta}],
             lambda x, y, r=red, d=delta: F.huber_loss(x, y, reduction=r, delta=d))
case("mseLoss/float32", "mseLoss", [randn(3, 4, dtype="float32"), randn(3, 4, dtype="float32")], ["$0", "$1"], F.mse_loss)
case("mseLoss/default-mean", "mseLoss", [lit([1.02, 2.29]), lit([2.0, 4.0])], ["$0", "$1"], F.mse_loss)
case("huberLoss/default", "huberLoss", [randn(6, scale=2), randn(6, scale=2)], ["$0", "$1"], F.huber_loss)

# ----------------------------------------------------------------------------- classification losses

C = 5
for red in ("mean", "sum", "none"):
    for ls in (0.0, 0.1):
        for wname in ("noweight", "weight"):
            for ign in ("noignore", "ignore-100", "ignore2"):
                ins = [randn(6, C, scale=2)]
                if ign == "ignore-100":
                    ins.append(labels(6, c=C, ignore=-100, ignore_every=3))
                    opts = {}
                elif ign == "ignore2":
                    t = labels(6, c=C)
                    t.t[0] = 2
                    t.t[3] = 2
                    ins.append(t)
                    opts = {"ignoreIndex": 2}
                else:
                    ins.append(labels(6, c=C))
                    opts = {}
                opts = dict(opts, reduction=red, labelSmoothing=ls)
                if wname == "weight":
                    ins.append(rand(C, lo=0.2, hi=2.0, grad=False))
                    opts["weight"] = "$2"
                name = f"crossEntropy/index/{red}/ls{ls}/{wname}/{ign}"
                ign_idx = opts.get("ignoreIndex", -100)

                def fn(x, t, w=None, r=red, ls=ls, ii=ign_idx):
                    return F.cross_entropy(x, t, weight=w, ignore_index=ii, reduction=r, label_smoothing=ls)

                case(name, "crossEntropy", ins, ["$0", "$1", opts], fn)
                # the same through nllLoss on logSoftmax (no smoothing there)
                if ls == 0.0:
                    ins2 = [I(F.log_softmax(ins[0].t, 1), True)] + ins[1:]
                    nopts = {k: v for k, v in opts.items() if k != "labelSmoothing"}

                    def nfn(x, t, w=None, r=red, ii=ign_idx):
                        return F.nll_loss(x, t, weight=w, ignore_index=ii, reduction=r)

                    case(f"nllLoss/{red}/{wname}/{ign}", "nllLoss", ins2, ["$0", "$1", nopts], nfn)
    # probability / one-hot targets
    for ls in (0.0, 0.2):
        for wname in ("noweight", "weight"):
            probs = F.softmax(torch.randn(4, C, dtype=torch.float64) * 2, 1)
            ins = [randn(4, C, scale=2), I(probs, grad=True)]
            opts = {"reduction": red, "labelSmoothing": ls}
            if wname == "weight":
                ins.append(rand(C, lo=0.2, hi=2.0, grad=False))
                opts["weight"] = "$2"

            def pfn(x, t, w=None, r=red, ls=ls):
                return F.cross_entropy(x, t, weight=w, reduction=r, label_smoothing=ls)

            case(f"crossEntropy/probs/{red}/ls{ls}/{wname}", "crossEntropy", ins, ["$0", "$1", opts], pfn)
    onehot = F.one_hot(torch.randint(0, C, (4,)), C).double()
    case(f"crossEntropy/onehot/{red}", "crossEntropy", [randn(4, C, scale=2), I(onehot, grad=False)], ["$0", "$1", {"reduction": red}],
         lambda x, t, r=red: F.cross_entropy(x, t, reduction=r))
    # K-dimensional: [N, C, d1, d2] with targets [N, d1, d2]
    case(f"crossEntropy/kdim/{red}", "crossEntropy", [randn(2, C, 3, 2, scale=2), labels(2, 3, 2, c=C, ignore=-100, ignore_every=4)],
         ["$0", "$1", {"reduction": red, "labelSmoothing": 0.1}], lambda x, t, r=red: F.cross_entropy(x, t, reduction=r, label_smoothing=0.1))
    case(f"nllLoss/kdim/{red}", "nllLoss", [randn(2, C, 3, 2, scale=2), labels(2, 3, 2, c=C), rand(C, lo=0.2, hi=2.0, grad=False)],
         ["$0", "$1", {"reduction": red, "weight": "$2"}], lambda x, t, w, r=red: F.nll_loss(x, t, weight=w, reduction=r))
    # unbatched: [C] with a 0-d target
    case(f"crossEntropy/unbatched/{red}", "crossEntropy", [randn(C, scale=2), lit(3, "int32")], ["$0", "$1", {"reduction": red}],
         lambda x, t, r=red: F.cross_entropy(x, t, reduction=r))
case("crossEntropy/default", "crossEntropy", [randn(8, 10, scale=3), labels(8, c=10)], ["$0", "$1"], F.cross_entropy)
case("crossEntropy/float32", "crossEntropy", [randn(8, 10, scale=3, dtype="float32"), labels(8, c=10)], ["$0", "$1"], F.cross_entropy)
case("crossEntropy/large-logits", "crossEntropy", [lit([[1000.0, 0.0, -1000.0], [0.0, 2000.0, 1.0]]), lit([2, 1], "int32")], ["$0", "$1"], F.cross_entropy)
case("crossEntropy/all-ignored-mean-is-nan", "crossEntropy", [randn(3, 4), lit([-100, -100, -100], "int32")], ["$0", "$1"], F.cross_entropy)
case("nllLoss/default", "nllLoss", [I(F.log_softmax(torch.randn(5, 3, dtype=torch.float64), 1)), labels(5, c=3)], ["$0", "$1"], F.nll_loss)

# ----------------------------------------------------------------------------- binary cross entropy

for red in ("mean", "sum", "none"):
    case(f"binaryCrossEntropy/{red}", "binaryCrossEntropy", [rand(4, 3, lo=0.02, hi=0.98), rand(4, 3)], ["$0", "$1", {"reduction": red}],
         lambda p, y, r=red: F.binary_cross_entropy(p, y, reduction=r))
    case(f"binaryCrossEntropy/{red}/weight", "binaryCrossEntropy", [rand(4, 3, lo=0.02, hi=0.98), rand(4, 3), rand(3, lo=0.5, hi=2, grad=False)],
         ["$0", "$1", {"reduction": red, "weight": "$2"}], lambda p, y, w, r=red: F.binary_cross_entropy(p, y, weight=w, reduction=r))
    case(f"bceWithLogits/{red}", "binaryCrossEntropyWithLogits", [randn(4, 3, scale=3), rand(4, 3)], ["$0", "$1", {"reduction": red}],
         lambda x, y, r=red: F.binary_cross_entropy_with_logits(x, y, reduction=r))
    case(f"bceWithLogits/{red}/weight-posWeight", "binaryCrossEntropyWithLogits",
         [randn(4, 3, scale=3), rand(4, 3), rand(4, 1, lo=0.5, hi=2, grad=False), rand(3, lo=0.5, hi=4, grad=False)],
         ["$0", "$1", {"reduction": red, "weight": "$2", "posWeight": "$3"}],
         lambda x, y, w, pw, r=red: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, reduction=r))
EXTREME_P = [0.0, 1.0, 0.0, 1.0, 1e-30, 1 - 1e-12, 1e-45, 0.5]
EXTREME_Y = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.25]
for dt in ("float64", "float32"):
    case(f"binaryCrossEntropy/extremes/{dt}", "binaryCrossEntropy", [lit(EXTREME_P, dt), lit(EXTREME_Y, dt, grad=False)],
         ["$0", "$1", {"reduction": "none"}], lambda p, y: F.binary_cross_entropy(p, y, reduction="none"))
    case(f"bceWithLogits/extremes/{dt}", "binaryCrossEntropyWithLogits",
         [lit([-1000.0, -100.0, -30.0, 0.0, 0.0, 30.0, 100.0, 1000.0], dt), lit([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0], dt)],
         ["$0", "$1", {"reduction": "none"}], lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"))
case("binaryCrossEntropy/near-extremes/grad", "binaryCrossEntropy", [lit([1e-9, 1 - 1e-9, 1e-6, 0.999999]), lit([1.0, 0.0, 0.3, 0.7])],
     ["$0", "$1", {"reduction": "sum"}], lambda p, y: F.binary_cross_entropy(p, y, reduction="sum"), tol={"rtol": 1e-8, "atol": 1e-10})

# ----------------------------------------------------------------------------- modules


def state_json(m):
    return {k: tensor_json(v) for k, v in m.state_dict().items()}


seq = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
with torch.no_grad():
    seq[1].weight.uniform_(0.5, 1.5)
    seq[1].bias.uniform_(-0.5, 0.5)
state0 = state_json(seq)
x_train = torch.randn(6, 4)
labels_train = torch.randint(0, 3, (6,))
seq.train()
out_train = seq(x_train)
loss = F.cross_entropy(out_train, labels_train)
loss.backward()
x_eval = torch.randn(3, 4)
seq.eval()
out_eval = seq(x_eval)
modules = {
    "sequential": {
        "repr": repr(seq),
        "stateDictKeys": list(seq.state_dict().keys()),
        "namedParameters": [n for n, _ in seq.named_parameters()],
        "state": state0,
        "xTrain": tensor_json(x_train),
        "labels": tensor_json(labels_train),
        "outTrain": tensor_json(out_train),
        "loss": loss.item(),
        "grads": {n: tensor_json(p.grad) for n, p in seq.named_parameters()},
        "stateAfterTrain": state_json(seq),
        "xEval": tensor_json(x_eval),
        "outEval": tensor_json(out_eval),
    }
}

batchnorm = []
for kind, shape, opts in (
    ("BatchNorm1d", [5, 3], {}),
    ("BatchNorm1d", [4, 3, 6], {"momentum": 0.25}),
    ("BatchNorm1d", [5, 3], {"momentum": None}),
    ("BatchNorm2d", [3, 2, 4, 4], {}),
    ("BatchNorm2d", [3, 2, 4, 4], {"momentum": None, "eps": 1e-3}),
    ("BatchNorm1d", [5, 3], {"affine": False}),
    ("BatchNorm1d", [5, 3], {"track_running_stats": False}),
):
    m = getattr(nn, kind)(shape[1], **opts)
    if m.affine:
        with torch.no_grad():
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.5, 0.5)
    init = state_json(m)
    xs, outs = [], []
    m.train()
    for _ in range(3):
        x = torch.randn(shape) * 2 + 1
        xs.append(tensor_json(x))
        outs.append(tensor_json(m(x)))
    m.eval()
    x_ev = torch.randn(shape)
    ts_opts = {{"track_running_stats": "trackRunningStats"}.get(k, k): v for k, v in opts.items()}
    batchnorm.append({
        "kind": kind, "options": ts_opts, "repr": repr(m), "init": init, "trainInputs": xs, "trainOutputs": outs,
        "stateAfterTrain": state_json(m), "evalInput": tensor_json(x_ev), "evalOutput": tensor_json(m(x_ev)),
    })

reprs = {
    "Linear(3, 2, bias=False)": repr(nn.Linear(3, 2, bias=False)),
    "Flatten()": repr(nn.Flatten()),
    "Dropout(0.25)": repr(nn.Dropout(0.25)),
    "Dropout()": repr(nn.Dropout()),
    "BatchNorm2d(16, momentum=None, affine=False)": repr(nn.BatchNorm2d(16, momentum=None, affine=False)),
    "BatchNorm1d(4, eps=0.001)": repr(nn.BatchNorm1d(4, eps=0.001)),
    "LeakyReLU(0.2)": repr(nn.LeakyReLU(0.2)),
    "LeakyReLU()": repr(nn.LeakyReLU()),
    "GELU()": repr(nn.GELU()),
    "Softmax(1)": repr(nn.Softmax(dim=1)),
    "LogSoftmax(-1)": repr(nn.LogSoftmax(dim=-1)),
    "Identity()": repr(nn.Identity()),
    "Sigmoid()": repr(nn.Sigmoid()),
    "Tanh()": repr(nn.Tanh()),
    "ReLU()": repr(nn.ReLU()),
    "MSELoss()": repr(nn.MSELoss()),
    "CrossEntropyLoss()": repr(nn.CrossEntropyLoss()),
    "BCEWithLogitsLoss()": repr(nn.BCEWithLogitsLoss()),
    "Sequential(Linear(2, 3), Sequential(ReLU(), Linear(3, 1)))": repr(nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))),
}
gains = {
    "linear": nn.init.calculate_gain("linear"), "conv2d": nn.init.calculate_gain("conv2d"), "sigmoid": nn.init.calculate_gain("sigmoid"),
    "tanh": nn.init.calculate_gain("tanh"), "relu": nn.init.calculate_gain("relu"), "leaky_relu": nn.init.calculate_gain("leaky_relu"),
    "leaky_relu:0.2": nn.init.calculate_gain("leaky_relu", 0.2), "selu": nn.init.calculate_gain("selu"),
}
loss_buffers = {
    "CrossEntropyLoss(weight)": list(nn.CrossEntropyLoss(weight=torch.ones(3)).state_dict().keys()),
    "BCEWithLogitsLoss(weight, pos_weight)": list(nn.BCEWithLogitsLoss(weight=torch.ones(3), pos_weight=torch.ones(3)).state_dict().keys()),
}

with open(OUT_PATH, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES, "modules": modules, "batchnorm": batchnorm, "reprs": reprs,
               "gains": gains, "lossBuffers": loss_buffers}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(CASES)} cases to {OUT_PATH} ({os.path.getsize(OUT_PATH) // 1024} KiB)")
