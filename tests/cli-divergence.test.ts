import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runHere } from "./cli-here.ts";

// `tensorgrad train --optimizer sgd --lr 1e6` on the embedded digits: the loss is NaN by batch 5 of 113
const DIVERGENT = ["train", "--model", "mlp", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "1"];
const STOP = /Epoch 1, batch \d+\/113: loss is NaN; training stopped, it diverged \(is the learning rate, 1000000, too high\?\)/;

/** Every file under `dir` (relative path → bytes). */
function snapshot(dir: string, base = dir): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) for (const [k, v] of snapshot(p, base)) files.set(k, v);
    else files.set(p.slice(base.length + 1), readFileSync(p));
  }
  return files;
}

test("a diverging run stops at the first NaN loss, naming epoch, batch and learning rate, exit 1, nothing written", () => {
  const out = join(mkdtempSync(join(tmpdir(), "tg-nan-")), "run");
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...DIVERGENT, "--out", out], {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, TENSORGRAD_DEBUG: "" },
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^tensorgrad train: error: ${STOP.source}\\. Non-finite weights are not saved: no checkpoint or model was written\\.\\n$`));
  assert.match(r.stdout, STOP, "the progress display says it too");
  assert.doesNotMatch(r.stdout, /Test accuracy|Wrote /);
  assert.deepEqual(readdirSync(out), [], "no model, checkpoint, history or lock left");
});

test("a diverging run into the folder of an earlier good run leaves its model and checkpoint byte for byte", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "tg-nan-")), "run");
  const good = await runHere(["train", "--model", "mlp", "--optimizer", "sgd", "--epochs", "1", "--quiet", "--out", out]);
  assert.equal(good.code, 0, good.stderr);
  const before = snapshot(out);
  for (const f of ["model.safetensors", "checkpoint/state.json", "history.json", "report.html"]) assert.ok(before.has(f), f);
  assert.ok([...before.keys()].some((f) => f.startsWith("checkpoint/") && f.endsWith(".safetensors")), "checkpoint weights");

  const bad = await runHere([...DIVERGENT, "--quiet", "--out", out]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, STOP);
  const after = snapshot(out);
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), "no file added or removed");
  for (const [f, bytes] of before) assert.ok(bytes.equals(after.get(f)!), `${f} unchanged`);
  assert.ok(!existsSync(join(out, ".tensorgrad-train.lock")), "the lock is released");
});
