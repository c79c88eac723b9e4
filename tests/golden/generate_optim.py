#!/usr/bin/python3
"""Generate tests/golden/optim.json: PyTorch golden values for tg.optim.

Run from anywhere:  /usr/bin/python3 tests/golden/generate_optim.py

Everything is float64.  Recorded:
  * optimizers: the parameter trajectory (all parameters, flattened, after every step) and the
    loss before every step, for each optimizer and several option sets, on non-quadratic losses
    ("mix": sum(sin(w1) * w2^2) + sum(log(1 + exp(w1 x))) + 0.1 sum(w2^4); "rosenbrock"),
    plus the key layout of torch's state_dict (state keys per parameter, param_group keys);
  * lbfgs: the point after every step(closure) call, the losses step() returned, and the
    func_evals / n_iter counters, with and without the strong-Wolfe line search;
  * schedulers: get_last_lr() after construction and after each of ~30 scheduler steps
    (ReduceLROnPlateau with a scripted metric sequence);
  * clip: clip_grad_norm_ totals and clipped gradients, clip_grad_value_ results.

Options are written with tensorgrad's camelCase names; TORCH_NAMES maps them to torch's.
"""

import json
import math
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
DT = torch.float64
OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.json")

TORCH_NAMES = {
    "weightDecay": "weight_decay",
    "lrDecay": "lr_decay",
    "initialAccumulatorValue": "initial_accumulator_value",
    "maxIter": "max_iter",
    "maxEval": "max_eval",
    "toleranceGrad": "tolerance_grad",
    "toleranceChange": "tolerance_change",
    "historySize": "history_size",
    "lineSearchFn": "line_search_fn",
    "stepSize": "step_size",
    "tMax": "T_max",
    "etaMin": "eta_min",
    "thresholdMode": "threshold_mode",
    "minLr": "min_lr",
}


def torch_kwargs(options):
    out = {}
    for k, v in options.items():
        if k == "lineSearchFn" and v == "strongWolfe":
            v = "strong_wolfe"
        if k == "betas":
            v = tuple(v)
        out[TORCH_NAMES.get(k, k)] = v
    return out


# ----------------------------------------------------------------------------- problems

X = [0.5, -1.0, 2.0]
PROBLEMS = {
    # two parameter tensors; non-quadratic, bounded below thanks to the w2^4 term
    "mix": {"init": [[[0.3, -0.7, 1.1], [-0.4, 0.8, 0.2]], [0.9, -1.3, 0.6]], "x": X},
    # one parameter [x, y]; f = (1 - x)^2 + 100 (y - x^2)^2
    "rosenbrock": {"init": [[-1.5, 2.0]]},
}


def loss_mix(params):
    w1, w2 = params
    x = torch.tensor(X, dtype=DT)
    z = (w1 * x).sum(1)
    return (torch.sin(w1) * (w2 * w2)).sum() + torch.log(torch.exp(z) + 1).sum() + (w2.pow(4)).sum() * 0.1


def loss_rosenbrock(params):
    (p,) = params
    a = p[0:1]
    b = p[1:2]
    u = 1 - a
    v = b - a * a
    return (u * u + v * v * 100).sum()


LOSSES = {"mix": loss_mix, "rosenbrock": loss_rosenbrock}


def make_params(problem, perturb=False):
    params = [torch.tensor(v, dtype=DT, requires_grad=True) for v in PROBLEMS[problem]["init"]]
    if perturb:  # one ulp (relative) on every starting value
        with torch.no_grad():
            for p in params:
                p.mul_(1 + 2.0 ** -52)
    return params


# A case is only useful at |diff| <= 1e-9 if rounding differences do not blow up along it: every
# case is re-run from a start perturbed by one ulp, and the largest divergence must stay below this.
MAX_SENSITIVITY = 1e-11


def divergence(a, b):
    return max(abs(x - y) for u, v in zip(a, b) for x, y in zip(u, v))


def check_conditioning(name, run):
    sensitivity = divergence(run(False), run(True))
    if sensitivity > MAX_SENSITIVITY:
        raise SystemExit(f"{name}: ill-conditioned (1-ulp start perturbation diverges by {sensitivity:.1e}); shorten or change it")
    return sensitivity


def flat(params):
    return [float(v) for p in params for v in p.detach().reshape(-1).tolist()]


# ----------------------------------------------------------------------------- optimizers

OPT_CASES = [
    ("SGD", "plain", "mix", {"lr": 0.05}),
    ("SGD", "momentum", "mix", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", "nesterov", "mix", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", "momentum-dampening-weightDecay", "mix", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weightDecay": 0.1}),
    ("SGD", "nesterov-weightDecay-maximize", "mix", {"lr": 0.01, "momentum": 0.5, "nesterov": True, "weightDecay": 0.2, "maximize": True}),
    ("SGD", "momentum-rosenbrock", "rosenbrock", {"lr": 2e-4, "momentum": 0.9}),
    ("Adagrad", "defaults", "mix", {}),
    ("Adagrad", "lr", "mix", {"lr": 0.2}),
    ("Adagrad", "lrDecay-weightDecay-initialAccumulator-eps", "mix",
     {"lr": 0.2, "lrDecay": 0.05, "weightDecay": 0.1, "initialAccumulatorValue": 0.3, "eps": 1e-4}),
    ("Adagrad", "maximize", "mix", {"lr": 0.05, "maximize": True}),
    ("RMSprop", "defaults", "mix", {}),
    ("RMSprop", "momentum", "mix", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", "centered", "mix", {"lr": 0.01, "centered": True}),
    ("RMSprop", "centered-momentum-weightDecay-alpha", "mix",
     {"lr": 0.02, "alpha": 0.9, "eps": 1e-6, "centered": True, "momentum": 0.5, "weightDecay": 0.1}),
    ("RMSprop", "maximize", "mix", {"lr": 0.005, "maximize": True}),
    ("Adadelta", "defaults", "mix", {}),
    ("Adadelta", "rho-eps-weightDecay", "mix", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weightDecay": 0.1}),
    ("Adadelta", "maximize", "mix", {"lr": 0.3, "maximize": True}),
    ("Adam", "defaults", "mix", {}),
    ("Adam", "lr", "mix", {"lr": 0.05}),
    ("Adam", "amsgrad", "mix", {"lr": 0.05, "amsgrad": True}),
    ("Adam", "weightDecay-betas-eps", "mix", {"lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-6, "weightDecay": 0.1}),
    ("Adam", "amsgrad-weightDecay-maximize", "mix", {"lr": 0.02, "amsgrad": True, "weightDecay": 0.05, "maximize": True}),
    ("Adam", "rosenbrock", "rosenbrock", {"lr": 0.1}),
    ("AdamW", "defaults", "mix", {}),
    ("AdamW", "lr-weightDecay", "mix", {"lr": 0.05, "weightDecay": 0.1}),
    ("AdamW", "amsgrad-betas", "mix", {"lr": 0.05, "weightDecay": 0.3, "amsgrad": True, "betas": [0.85, 0.95]}),
    ("AdamW", "maximize", "mix", {"lr": 0.02, "maximize": True}),
]

# param groups: indices into the problem's parameter list, plus per-group overrides
GROUP_CASES = [
    ("SGD", "groups", "mix", {"lr": 0.05, "momentum": 0.5},
     [{"params": [0], "lr": 0.1}, {"params": [1], "momentum": 0.9, "weightDecay": 0.1}]),
    ("Adam", "groups", "mix", {"lr": 0.01},
     [{"params": [0]}, {"params": [1], "lr": 0.05, "amsgrad": True, "betas": [0.5, 0.9]}]),
    ("RMSprop", "groups", "mix", {"lr": 0.01},
     [{"params": [1], "centered": True}, {"params": [0], "lr": 0.03, "momentum": 0.3}]),
]

STEPS = 15
IMPLEMENTATION_FLAGS = {"foreach", "differentiable", "capturable", "fused"}


def run_optimizer(name, problem, options, groups=None, perturb=False):
    params = make_params(problem, perturb)
    cls = getattr(torch.optim, name)
    if groups is None:
        opt = cls(params, **torch_kwargs(options))
    else:
        torch_groups = []
        for g in groups:
            tg = {k: v for k, v in g.items() if k != "params"}
            tg = torch_kwargs(tg)
            tg["params"] = [params[i] for i in g["params"]]
            torch_groups.append(tg)
        opt = cls(torch_groups, **torch_kwargs(options))
    trajectory, losses = [], []
    fn = LOSSES[problem]
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss = fn(params)
        loss.backward()
        losses.append(loss.item())
        opt.step()
        trajectory.append(flat(params))
    sd = opt.state_dict()
    state_keys = {str(k): sorted(v.keys()) for k, v in sd["state"].items()}
    group_keys = sorted(k for k in sd["param_groups"][0].keys() if k not in IMPLEMENTATION_FLAGS)
    return trajectory, losses, state_keys, group_keys


def optimizer_cases():
    out = []
    for name, label, problem, options in OPT_CASES:
        traj, losses, state_keys, group_keys = run_optimizer(name, problem, options)
        sens = check_conditioning(f"{name}/{label}", lambda pert: run_optimizer(name, problem, options, perturb=pert)[0])
        out.append({"name": f"{name}/{label}", "optimizer": name, "problem": problem, "options": options,
                    "steps": STEPS, "losses": losses, "trajectory": traj, "sensitivity": sens,
                    "torchStateKeys": state_keys, "torchParamGroupKeys": group_keys})
    for name, label, problem, options, groups in GROUP_CASES:
        traj, losses, state_keys, group_keys = run_optimizer(name, problem, options, groups)
        sens = check_conditioning(f"{name}/{label}", lambda pert: run_optimizer(name, problem, options, groups, pert)[0])
        out.append({"name": f"{name}/{label}", "optimizer": name, "problem": problem, "options": options,
                    "groups": groups, "steps": STEPS, "losses": losses, "trajectory": traj, "sensitivity": sens,
                    "torchStateKeys": state_keys, "torchParamGroupKeys": group_keys})
    return out


# ----------------------------------------------------------------------------- L-BFGS

LBFGS_CASES = [
    ("strongWolfe", "rosenbrock", {"lineSearchFn": "strongWolfe"}, 4),
    ("strongWolfe-lr-maxIter", "rosenbrock", {"lr": 0.5, "maxIter": 7, "lineSearchFn": "strongWolfe"}, 5),
    ("strongWolfe-historySize", "rosenbrock", {"historySize": 4, "maxIter": 5, "lineSearchFn": "strongWolfe"}, 4),
    ("fixedStep", "rosenbrock", {"lr": 0.1, "maxIter": 10}, 4),
    ("fixedStep-defaults", "rosenbrock", {}, 1),
    ("strongWolfe-mix", "mix", {"maxIter": 6, "historySize": 4, "lineSearchFn": "strongWolfe"}, 3),
    ("strongWolfe-mix-historySize2", "mix", {"maxIter": 10, "historySize": 2, "lineSearchFn": "strongWolfe"}, 3),
    ("fixedStep-mix-maxEval", "mix", {"lr": 0.3, "maxIter": 10, "maxEval": 6, "historySize": 5}, 4),
    ("strongWolfe-converges", "rosenbrock", {"maxIter": 100, "lineSearchFn": "strongWolfe"}, 2),
]


def run_lbfgs(problem, options, steps, perturb=False):
    params = make_params(problem, perturb)
    opt = torch.optim.LBFGS(params, **torch_kwargs(options))
    fn = LOSSES[problem]
    evals = [0]

    def closure():
        evals[0] += 1
        opt.zero_grad()
        loss = fn(params)
        loss.backward()
        return loss

    rec = {"points": [], "returnedLosses": [], "funcEvals": [], "nIter": [], "closureCalls": []}
    for _ in range(steps):
        loss = opt.step(closure)
        rec["returnedLosses"].append(float(loss))
        rec["points"].append(flat(params))
        st = opt.state[params[0]]
        rec["funcEvals"].append(int(st["func_evals"]))
        rec["nIter"].append(int(st["n_iter"]))
        rec["closureCalls"].append(evals[0])
    rec["finalLoss"] = float(fn(params))
    return rec


def lbfgs_cases():
    out = []
    for label, problem, options, steps in LBFGS_CASES:
        rec = run_lbfgs(problem, options, steps)
        sens = check_conditioning(f"LBFGS/{label}", lambda pert: run_lbfgs(problem, options, steps, pert)["points"])
        out.append({"name": f"LBFGS/{label}", "problem": problem, "options": options, "steps": steps, **rec, "sensitivity": sens})
    return out


# ----------------------------------------------------------------------------- schedulers

PLATEAU_METRICS = [1.0, 0.9, 0.85, 0.86, 0.849, 0.8499, 0.84, 0.845, 0.846, 0.847, 0.7, 0.71, 0.72, 0.73, 0.74,
                   0.75, 0.69, 0.6999, 0.69, 0.68, 0.681, 0.682, 0.683, 0.684, 0.685, 0.5, 0.51, 0.52, 0.53, 0.54]
PLATEAU_MAX_METRICS = [0.1, 0.2, 0.22, 0.3, 0.31, 0.32, 0.4, 0.41, 0.42, 0.43, 0.5, 0.7, 0.71, 0.72, 0.73,
                       0.74, 0.8, 0.81, 0.79, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 1.2, 1.21, 1.22, 1.23]

# long plateaus, so that the default patience (10) and rel threshold (1e-4) trigger twice
PLATEAU_FLAT_METRICS = [1.0] + [0.99995] * 14 + [0.5] + [0.49999] * 14

SCHED_CASES = [
    ("StepLR", "stepSize3-gamma0.5", [0.1], {"stepSize": 3, "gamma": 0.5}, None),
    ("StepLR", "defaults-two-groups", [0.1, 0.02], {"stepSize": 7}, None),
    ("ExponentialLR", "gamma0.9", [0.1], {"gamma": 0.9}, None),
    ("ExponentialLR", "two-groups", [0.5, 0.05], {"gamma": 0.8}, None),
    ("CosineAnnealingLR", "tMax10-etaMin", [0.1], {"tMax": 10, "etaMin": 0.001}, None),
    ("CosineAnnealingLR", "tMax7-two-groups", [0.1, 0.03], {"tMax": 7}, None),
    ("ReduceLROnPlateau", "min-rel-patience2-cooldown1", [0.1],
     {"mode": "min", "factor": 0.5, "patience": 2, "cooldown": 1}, PLATEAU_METRICS),
    ("ReduceLROnPlateau", "min-defaults", [0.1], {}, PLATEAU_FLAT_METRICS),
    ("ReduceLROnPlateau", "min-abs-minLr", [0.1], {"patience": 1, "threshold": 0.01, "thresholdMode": "abs", "minLr": 0.004},
     PLATEAU_METRICS),
    ("ReduceLROnPlateau", "max-abs-two-groups-minLrs", [0.1, 0.01],
     {"mode": "max", "factor": 0.3, "patience": 1, "threshold": 0.05, "thresholdMode": "abs", "minLr": [0.005, 0.002]},
     PLATEAU_MAX_METRICS),
    ("ReduceLROnPlateau", "max-rel-eps", [0.1],
     {"mode": "max", "factor": 0.9, "patience": 0, "threshold": 0.1, "eps": 0.009}, PLATEAU_MAX_METRICS),
]
SCHED_STEPS = 30


def scheduler_cases():
    out = []
    for name, label, lrs, options, metrics in SCHED_CASES:
        ws = [torch.zeros(2, dtype=DT, requires_grad=True) for _ in lrs]
        opt = torch.optim.SGD([{"params": [w], "lr": lr} for w, lr in zip(ws, lrs)], lr=lrs[0])
        cls = getattr(torch.optim.lr_scheduler, name)
        sched = cls(opt, **torch_kwargs(options))
        lr_seq = [[g["lr"] for g in opt.param_groups]]
        for i in range(SCHED_STEPS):
            opt.step()
            if metrics is None:
                sched.step()
            else:
                sched.step(metrics[i])
            lr_seq.append([float(g["lr"]) for g in opt.param_groups])
        out.append({"name": f"{name}/{label}", "scheduler": name, "lrs": lrs, "options": options,
                    "metrics": metrics, "steps": SCHED_STEPS, "lrSequence": lr_seq})
    return out


# ----------------------------------------------------------------------------- clipping

CLIP_GRADS = [[[0.5, -2.0, 1.5], [3.0, -0.25, 0.75]], [-1.0, 4.0, 0.5, -2.5]]
CLIP_CASES = [
    ("norm2-clips", 2, 1.0),
    ("norm2-no-clip", 2, 100.0),
    ("norm1", 1, 3.0),
    ("norm-inf", "inf", 2.0),
    ("norm3", 3, 2.0),
    ("norm0.5", 0.5, 10.0),
]


def clip_cases():
    out = []
    for label, norm_type, max_norm in CLIP_CASES:
        for dtype_name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
            ps = [torch.zeros(torch.tensor(g).shape, dtype=dtype, requires_grad=True) for g in CLIP_GRADS]
            for p, g in zip(ps, CLIP_GRADS):
                p.grad = torch.tensor(g, dtype=dtype)
            nt = math.inf if norm_type == "inf" else norm_type
            total = torch.nn.utils.clip_grad_norm_(ps, max_norm, nt)
            out.append({"name": f"clipGradNorm/{label}/{dtype_name}", "dtype": dtype_name, "grads": CLIP_GRADS,
                        "normType": norm_type, "maxNorm": max_norm, "total": float(total),
                        "clipped": [flat([p.grad]) for p in ps]})
    ps = [torch.zeros(torch.tensor(g).shape, dtype=DT, requires_grad=True) for g in CLIP_GRADS]
    for p, g in zip(ps, CLIP_GRADS):
        p.grad = torch.tensor(g, dtype=DT)
    torch.nn.utils.clip_grad_value_(ps, 1.2)
    value = {"name": "clipGradValue/1.2", "grads": CLIP_GRADS, "clipValue": 1.2, "clipped": [flat([p.grad]) for p in ps]}
    return out, value


def main():
    clip, clip_value = clip_cases()
    golden = {
        "torch": torch.__version__,
        "problems": PROBLEMS,
        "optimizers": optimizer_cases(),
        "lbfgs": lbfgs_cases(),
        "schedulers": scheduler_cases(),
        "clipGradNorm": clip,
        "clipGradValue": clip_value,
    }
    with open(OUT_PATH, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT_PATH}: {len(golden['optimizers'])} optimizer, {len(golden['lbfgs'])} L-BFGS, "
          f"{len(golden['schedulers'])} scheduler, {len(clip) + 1} clipping cases")


if __name__ == "__main__":
    main()
