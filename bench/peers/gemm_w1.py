"""W1 (sgemm) for the Python peers: C = A @ B, float32, square n in {128, 256, 512, 1024}, GFLOP/s =
2n^3 / median seconds per product. The same sizes, sample sizes, warm-up and time budget as
bench/workloads/w1-sgemm.ts. Run as pytorch_w1.py or numpy_w1.py (which import this)."""
import argparse
import json
import statistics
import time

SIZES = (128, 256, 512, 1024)
FLOPS_PER_SAMPLE = 2e8  # as W1_FLOPS_PER_SAMPLE
WARMUP_SECONDS = 0.3
BUDGET_SECONDS = 10.0


def seconds_per_call(fn, iters, repeats):
    start = time.perf_counter()
    fn()
    while time.perf_counter() - start < WARMUP_SECONDS:
        fn()
    samples = []
    t0 = time.perf_counter()
    for _ in range(repeats):
        s0 = time.perf_counter()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter() - s0) / iters)
        if len(samples) >= 3 and time.perf_counter() - t0 > BUDGET_SECONDS:
            break
    return statistics.median(samples)


def run(framework, backend, set_threads, make_pair, matmul):
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--scale", type=float, default=1.0)
    args = p.parse_args()
    set_threads(args.threads)
    for n in SIZES:
        a, b = make_pair(n)
        flops = 2 * n ** 3
        iters = max(1, round(args.scale * FLOPS_PER_SAMPLE / flops))
        s = seconds_per_call(lambda: matmul(a, b), iters, args.repeats)
        print(json.dumps({"framework": framework, "backend": backend, "threads": args.threads, "workload": "W1",
                          "metric": "gflops", "value": float(f"{flops / s / 1e9:.4g}"), "unit": "GFLOP/s", "n": n}), flush=True)
