"""W2 for PyTorch: the MLP 784-512-256-10, Adam lr 1e-3, batch 128, on the same samples in the same
order as bench/workloads/w2-mlp.ts (the loop is mnist_split.run_w2). Prints one JSON line per figure."""
import argparse
import json
import resource
import sys

import torch
from torch import nn

import mnist_split as ms


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def adapters(model, image):
    """step(train indices) -> loss; predict(test indices) -> predicted classes (numpy)."""
    train_x, train_y, test_x, _ = ms.load_mnist()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    shape = (-1, 1, 28, 28) if image else (-1, 784)

    def step(idx):
        model.train()
        x = torch.from_numpy(train_x[idx]).reshape(shape)
        y = torch.from_numpy(train_y[idx])
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    def predict(idx):
        model.eval()
        with torch.no_grad():
            return model(torch.from_numpy(test_x[idx]).reshape(shape)).argmax(1).numpy()

    return step, predict


def emit(workload, threads, metric, value, unit):
    print(json.dumps({"framework": "pytorch", "backend": "cpu", "threads": threads, "workload": workload,
                      "metric": metric, "value": float(f"{value:.4g}"), "unit": unit}), flush=True)


def args():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--scale", type=float, default=1.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    return a


def main():
    a = args()
    plan = ms.w2_plan(a.scale)
    ms.reduced_note("W2", a.scale, f"{plan['n_train']} training samples per epoch, a strided subset of the test set")
    step, predict = adapters(mlp(), False)
    sps, acc, _ = ms.run_w2(step, predict, a.scale, lambda m: ms.note(f"pytorch W2: {m}"))
    emit("W2", a.threads, "train_samples_per_s", sps, "samples/s")
    if acc is not None:
        emit("W2", a.threads, "test_accuracy", acc, "fraction")
    # peak resident memory of this process (the same measure as tensorgrad's child process); KiB on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    emit("W2", a.threads, "peak_rss_mb", rss / (1024 * 1024 if sys.platform == "darwin" else 1024), "MiB")


if __name__ == "__main__":
    main()
