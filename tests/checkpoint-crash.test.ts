/**
 * @file saveCheckpoint under faults at each of its file-system steps: a SIGKILL (child process)
 * or a thrown error (in process) at step k, for every k; loadCheckpoint must then return the old
 * or the new checkpoint, whole, and the next save must clean up what the failed one left.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as tg from "../src/index.ts";
import { faultySave, model } from "./fixtures/checkpoint-fault.ts";

const root = mkdtempSync(join(tmpdir(), "tg-ckpt-crash-"));
const OLD = 1;
const NEW = 2;

/** A directory holding a checkpoint of value OLD, inside a fresh parent. */
async function oldCheckpoint(name: string): Promise<string> {
  const dir = join(root, name, "checkpoint");
  const { model: m, optimizer } = model(OLD);
  await tg.train.saveCheckpoint(dir, { model: m, optimizer }, { value: OLD });
  return dir;
}

/** "old", "new" or the error loadCheckpoint threw; checks that weights, optimizer state and extra agree. */
async function which(dir: string): Promise<string> {
  const { model: m, optimizer } = model(0);
  try {
    const extra = await tg.train.loadCheckpoint(dir, { model: m, optimizer });
    const weights = new Set(m.parameters().flatMap((p) => [...p.dataSync()]));
    assert.deepEqual([...weights], [extra.value], "the weights are those of the state.json that names them");
    assert.equal((optimizer.stateDict().state[0] as { step?: number }).step, 1);
    return extra.value === OLD ? "old" : extra.value === NEW ? "new" : `value ${extra.value}`;
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

/** After a failed save, a good one must leave only state.json and the files it names, in and beside the directory: what else is left. */
async function leftAfterNextSave(dir: string): Promise<string> {
  const { model: m, optimizer } = model(3);
  await tg.train.saveCheckpoint(dir, { model: m, optimizer }, { value: 3 });
  const files = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")).files ?? { model: "model.safetensors", optimizer: "optimizer.safetensors" };
  const keep = ["state.json", ...Object.values(files as Record<string, string>)];
  const left = [...readdirSync(dir).filter((f) => !keep.includes(f)), ...readdirSync(join(dir, "..")).filter((f) => f !== "checkpoint")];
  rmSync(join(dir, ".."), { recursive: true });
  return left.length === 0 ? "" : ` (left after the next save: ${left.join(", ")})`;
}

/** Each entry is "step: outcome"; all must be "old" or "new" with nothing left over. */
function check(seen: string[]): void {
  const bad = seen.filter((s) => !/: (old|new)$/.test(s));
  assert.deepEqual(bad, [], `bad outcomes:\n${bad.join("\n")}`);
}

test("a thrown error at each step of saveCheckpoint leaves the old or the new checkpoint", async () => {
  const dir = await oldCheckpoint("throw");
  const seen: string[] = [];
  for (let k = 1; ; k++) {
    const copy = join(root, `throw-${k}`, "checkpoint");
    cpSync(dir, copy, { recursive: true });
    // the fault was not reached when the save ran fewer than k steps (a swallowed one, e.g. the best-effort directory fsync, was)
    let reached = true;
    let outcome = "threw";
    try {
      reached = (await faultySave(copy, NEW, k, "throw")).length >= k;
      outcome = "returned";
    } catch (e) {
      assert.match((e as Error).message, /injected fault/);
    }
    const got = await which(copy);
    seen.push(`${k} ${outcome}: ${got}${await leftAfterNextSave(copy)}`);
    if (!reached) {
      assert.equal(got, "new");
      break;
    }
  }
  console.log(`throw (step → loaded):\n  ${seen.join("\n  ")}`);
  check(seen);
});

test("SIGKILL at each step of saveCheckpoint leaves the old or the new checkpoint", async () => {
  const dir = await oldCheckpoint("kill");
  const seen: string[] = [];
  for (let k = 1; k < 100; k++) {
    const copy = join(root, `kill-${k}`, "checkpoint");
    cpSync(dir, copy, { recursive: true });
    const r = spawnSync(process.execPath, ["--import", "tsx", "tests/fixtures/checkpoint-fault.ts", copy, String(NEW), String(k)], { encoding: "utf8", timeout: 60_000 });
    const lines = r.stdout.trim().split("\n");
    const done = lines.at(-1) === "done";
    assert.equal(r.signal, done ? null : "SIGKILL", r.stderr);
    const got = await which(copy);
    seen.push(`${done ? "finished" : `killed before ${lines.at(-1)}`}: ${got}${await leftAfterNextSave(copy)}`);
    if (done) {
      assert.equal(got, "new");
      break;
    }
  }
  console.log(`SIGKILL (step → loaded):\n  ${seen.join("\n  ")}`);
  check(seen);
});
