#!/usr/bin/python3
"""Generate tests/golden/adam_float32.json: torch.optim.Adam / AdamW on float32 parameters.

Run from anywhere:  /usr/bin/python3 tests/golden/generate_adam_float32.py

tensorgrad updates float32 parameters with float32 operations in PyTorch's order (optim/adam.ts,
adamFloat32). PyTorch's vectorized add(alpha) / addcmul fuse a multiply-add, so later steps may
differ by an ulp; at the first step the moments start at zero, no fused term changes anything and
the whole update (sqrt, bias corrections, eps, division) must match bit for bit. Recorded: the
initial parameters, the gradient given at each step (no autograd involved), and the parameters
after every step, as float32 values.
"""

import json
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "adam_float32.json")
N = 203  # SIMD lanes and a scalar tail on every backend
STEPS = 6

CASES = [
    ("Adam", {"lr": 1e-3}),
    ("Adam", {"lr": 0.01, "weightDecay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "maximize": True, "betas": [0.8, 0.99], "eps": 1e-6}),
    ("AdamW", {"lr": 0.02, "weightDecay": 0.05}),
]
TORCH_NAMES = {"weightDecay": "weight_decay"}


def main():
    gen = torch.Generator().manual_seed(20261123)
    init = torch.randn(N, generator=gen)
    grads = [torch.randn(N, generator=gen) * (0.1 if s % 2 else 3.0) for s in range(STEPS)]
    cases = []
    for name, options in CASES:
        p = init.clone().requires_grad_(True)
        kwargs = {TORCH_NAMES.get(k, k): tuple(v) if k == "betas" else v for k, v in options.items()}
        opt = getattr(torch.optim, name)([p], **kwargs)
        after = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            after.append(p.detach().tolist())
        cases.append({"optimizer": name, "options": options, "after": after})
    golden = {"torch": torch.__version__, "init": init.tolist(), "grads": [g.tolist() for g in grads], "cases": cases}
    with open(OUT_PATH, "w") as f:
        json.dump(golden, f)
    print(f"wrote {OUT_PATH}: {len(cases)} cases")


if __name__ == "__main__":
    main()
