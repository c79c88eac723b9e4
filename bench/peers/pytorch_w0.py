"""W0 for PyTorch: per-op overhead on 8-element tensors, the same ops and counts as
bench/workloads/w0-overhead.ts. Prints one JSON line per figure (BENCHMARKS.md's format)."""
import argparse
import json
import statistics
import time

import torch

ITERS = {"add": 100_000, "mul_scalar": 100_000, "sum": 100_000, "matmul_8x8": 50_000, "autograd_roundtrip": 20_000,
         "linear_1x784": 20_000, "conv2d_1x28x28": 5_000}


WARMUP_SECONDS = 0.3  # as bench/lib/figure.ts


def us_per_op(body, iters, repeats):
    start = time.perf_counter()
    body(iters)  # warm-up: at least once and for at least WARMUP_SECONDS
    while time.perf_counter() - start < WARMUP_SECONDS:
        body(iters)
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        body(iters)
        samples.append((time.perf_counter() - t0) * 1e6 / iters)
    return statistics.median(samples)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--scale", type=float, default=1.0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    iters = {k: max(1, round(v * args.scale)) for k, v in ITERS.items()}

    def emit(op, value):
        print(json.dumps({"framework": "pytorch", "backend": "cpu", "threads": args.threads, "workload": "W0",
                          "metric": "us_per_op", "value": float(f"{value:.4g}"), "unit": "us", "op": op}), flush=True)

    # each loop chains its results (c = op(c, ...)), like bench/workloads/w0-overhead.ts
    a = torch.rand(8)
    b = torch.rand(8)
    m1 = torch.rand(8, 8)
    m2 = torch.rand(8, 8) + 0.1
    m2 = m2 / m2.sum(1, keepdim=True)  # rows sum to 1: the chain c = c @ m2 stays bounded

    def add_loop(n):
        c = a
        for _ in range(n):
            c = torch.add(c, b)
        return c

    emit("add", us_per_op(add_loop, iters["add"], args.repeats))

    x = torch.rand(8, requires_grad=True)
    w = torch.rand(8)
    bias = torch.rand(8)

    def roundtrip(n):
        for _ in range(n):
            (x * w + bias).relu().sum().backward()

    emit("autograd_roundtrip", us_per_op(roundtrip, iters["autograd_roundtrip"], args.repeats))

    def mul_loop(n):
        c = a
        for _ in range(n):
            c = torch.mul(c, 1.0001)
        return c

    emit("mul_scalar", us_per_op(mul_loop, iters["mul_scalar"], args.repeats))

    def matmul_loop(n):
        c = m1
        for _ in range(n):
            c = torch.matmul(c, m2)
        return c

    emit("matmul_8x8", us_per_op(matmul_loop, iters["matmul_8x8"], args.repeats))

    def sum_loop(n):
        c = a
        for _ in range(n):
            c = torch.sum(a)
        return c

    emit("sum", us_per_op(sum_loop, iters["sum"], args.repeats))

    # batch-1 inference calls (no graph), as w0-overhead.ts: Linear(784->128) on [1, 784], Conv2d(1->16, 3x3, pad 1) on 28x28
    torch.manual_seed(0)
    fc = torch.nn.Linear(784, 128)
    conv = torch.nn.Conv2d(1, 16, 3, padding=1)
    row = torch.rand(1, 784)
    image = torch.rand(1, 1, 28, 28)

    def batch1(layer, inp):
        def loop(n):
            out = None
            for _ in range(n):
                out = layer(inp)
            return out
        return loop

    with torch.no_grad():
        emit("linear_1x784", us_per_op(batch1(fc, row), iters["linear_1x784"], args.repeats))
        emit("conv2d_1x28x28", us_per_op(batch1(conv, image), iters["conv2d_1x28x28"], args.repeats))


if __name__ == "__main__":
    main()
