"""W4 for PyTorch: inference with the W2 MLP (untrained weights), each call torch.from_numpy ->
forward under torch.no_grad() -> logits as numpy, like bench/workloads/w4-inference.ts (the loop is
mnist_split.run_w4). Prints one JSON line per figure."""
import torch

import mnist_split as ms
from pytorch_w2 import args, emit, mlp


def main():
    a = args()
    model = mlp().eval()

    def infer(x):
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    latency, rate = ms.run_w4(infer, a.repeats, a.scale)
    emit("W4", a.threads, "latency_ms_batch1", latency, "ms")
    emit("W4", a.threads, "samples_per_s_batch256", rate, "samples/s")


if __name__ == "__main__":
    main()
