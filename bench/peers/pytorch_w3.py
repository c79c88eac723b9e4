"""W3 for PyTorch: the CNN of BENCHMARKS.md, Adam lr 1e-3, batch 64, on the same samples in the same
order as bench/workloads/w3-cnn.ts (the loop is mnist_split.run_w3). Prints one JSON line per figure."""
from torch import nn

import mnist_split as ms
from pytorch_w2 import adapters, args, emit


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def main():
    a = args()
    plan = ms.w3_plan(a.scale)
    ms.reduced_note("W3", a.scale, f"{plan['timed_batches']} timed batches, a {plan['n_train']}-sample epoch, a strided subset of the test set")
    step, predict = adapters(cnn(), True)
    sps, acc, _ = ms.run_w3(step, predict, a.scale, lambda m: ms.note(f"pytorch W3: {m}"))
    emit("W3", a.threads, "train_samples_per_s", sps, "samples/s")
    if acc is not None:
        emit("W3", a.threads, "test_accuracy", acc, "fraction")


if __name__ == "__main__":
    main()
