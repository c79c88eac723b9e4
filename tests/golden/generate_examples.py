#!/usr/bin/python3
"""Generate tests/golden/examples.json: PyTorch's values for the lecture examples' key numbers.

Run from anywhere:  /usr/bin/python3 tests/golden/generate_examples.py

Each entry mirrors one computation of an example in examples/ (same inputs, dtypes, hyper-
parameters and step counts); tests/examples.test.ts compares the example's printed values with
these. Float32 where the example uses tensorgrad's default dtype, float64 where it asks for it.
"""

import json
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)
OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "examples.json")
f32, f64 = torch.float32, torch.float64


def t(v, dtype=f32, **kw):
    return torch.tensor(v, dtype=dtype, **kw)


def forward_pass():
    """examples/01-forward-pass.ts: the lecture's 2-3-2-2 network on x = [1, 2]."""
    W1, b1 = t([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), t([0.1, 0.2, 0.3])
    W2, b2 = t([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), t([0.1, 0.2])
    W3, b3 = t([[0.1, 0.3], [0.2, 0.4]]), t([1.0, 2.0])
    z1 = torch.relu(t([1.0, 2.0]) @ W1 + b1)
    z2 = torch.relu(z1 @ W2 + b2)
    y = z2 @ W3 + b3
    u = t([2.0, 3.0]) @ t([[0.1], [0.2]]) + 0.5
    return {"u": u.item(), "z": torch.relu(u).item(), "z1": z1.tolist(), "z2": z2.tolist(), "y": y.tolist()}


def activations():
    """examples/02-activations.ts: the overflow-safe softmax of [1000, 1001]."""
    return {"softmax": torch.softmax(t([1000.0, 1001.0]), 0).tolist()}


def losses():
    """examples/03-losses.ts."""
    W1, W2 = t([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), t([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]])
    y = torch.relu(t([1.0, 2.0]) @ W1 + t([0.1, 0.2, 0.3])) @ W2 + t([0.1, 0.2])
    d = t([2.0, 4.0])
    logits = t([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    labels = torch.tensor([0, 1])
    one_hot = F.one_hot(labels, 3).to(f32)

    def ce_error(d, y):
        return -(d * torch.log(y + 1e-7)).sum() / y.shape[0]

    wrong, answer = t([[100.0, -100.0]]), torch.tensor([1])
    p, target = t([0.9, 0.2, 0.7]), t([1.0, 0.0, 0.0])
    return {
        "y": y.tolist(),
        "lectureMse": ((d - y) ** 2).mean().div(2).item(),
        "mseHalf": F.mse_loss(y, d).item() / 2,
        "lectureCe": ce_error(one_hot, torch.softmax(logits, 1)).item(),
        "ceIndex": F.cross_entropy(logits, labels).item(),
        "ceOneHot": F.cross_entropy(logits, one_hot).item(),
        "guarded": ce_error(F.one_hot(answer, 2).to(f32), torch.softmax(wrong, 1)).item(),
        "exact": F.cross_entropy(wrong, answer).item(),
        "bce": F.binary_cross_entropy(p, target).item(),
        "bceLogits": F.binary_cross_entropy_with_logits(torch.log(p / (1 - p)), target).item(),
        "huber": F.huber_loss(t([0.5, 3.0]), t([0.0, 0.0]), delta=1.0).item(),
    }


def gradient_descent():
    """examples/04-gradient-descent.ts: autograd descent on x² + e^(−x); Adam on the "difficult function"."""
    x = t(3.0, f64, requires_grad=True)
    for _ in range(1000):
        (x**2 + torch.exp(-x)).backward()
        with torch.no_grad():
            x -= 0.01 * x.grad
        x.grad = None
    xs = t(3.0, f64, requires_grad=True)
    opt = torch.optim.SGD([xs], lr=0.01)
    for _ in range(1000):
        opt.zero_grad()
        (xs**2 + torch.exp(-xs)).backward()
        opt.step()

    def difficult(x):
        return -torch.log(torch.sigmoid(x) + 1) / (x**2 + 1)

    xd = t(2.0, f64, requires_grad=True)
    adam = torch.optim.Adam([xd], lr=0.05)
    for _ in range(1000):
        adam.zero_grad()
        difficult(xd).backward()
        adam.step()
    return {"x1000Autograd": x.item(), "x1000SGD": xs.item(), "difficultX": xd.item(), "difficultF": difficult(xd.detach()).item()}


def optimizers():
    """examples/16-optimizers.ts: 40 steps on f(x, y) = x²/4 + 16y² from (−7, 2), float64."""
    makers = {
        "SGD": lambda p: torch.optim.SGD(p, lr=0.05),
        "Momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
        "AdaGrad": lambda p: torch.optim.Adagrad(p, lr=1.5),
        "RMSProp": lambda p: torch.optim.RMSprop(p, lr=0.1),
        "Adam": lambda p: torch.optim.Adam(p, lr=0.3),
    }
    paths = {}
    for name, make in makers.items():
        p = t([-7.0, 2.0], f64, requires_grad=True)
        opt = make([p])
        path = [p.tolist()]
        for _ in range(40):
            opt.zero_grad()
            (p[0] ** 2 / 4 + 16 * p[1] ** 2).backward()
            opt.step()
            path.append(p.tolist())
        paths[name] = path
    return {"bowlPaths": paths}


def main():
    out = {
        "torch_version": torch.__version__,
        "01-forward-pass": forward_pass(),
        "02-activations": activations(),
        "03-losses": losses(),
        "04-gradient-descent": gradient_descent(),
        "16-optimizers": optimizers(),
    }
    with open(OUT_PATH + ".tmp", "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    os.replace(OUT_PATH + ".tmp", OUT_PATH)
    print(f"wrote {OUT_PATH}")


if __name__ == "__main__":
    main()
