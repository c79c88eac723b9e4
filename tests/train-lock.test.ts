import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { LOCK_NAME, lockRunDir } from "../src/cli/lock.ts";
import { smallMnist, writeIdx } from "./mnist-small.ts";
import { runHere } from "./cli-here.ts";

let dir: string;
let idx: string;
const sleepers: ChildProcess[] = [];

/** The pid of a process that runs until the tests end. */
function livePid(): number {
  const child = spawn("sleep", ["300"], { stdio: "ignore" });
  sleepers.push(child);
  return child.pid!;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync("true").pid!;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tg-lock-"));
  idx = join(dir, "idx");
  mkdirSync(idx);
  const s = await smallMnist(10, 20);
  writeIdx(idx, "train", s.x, s.y, true);
  writeIdx(idx, "t10k", s.xTest, s.yTest, false);
});
after(() => {
  for (const c of sleepers) c.kill();
});

const TRAIN = ["train", "--model", "mlp", "--batch-size", "20", "--quiet"];
const lockFiles = (d: string) => readdirSync(d).filter((f) => f.startsWith(LOCK_NAME));

test("train --out D / --resume D refuses while a live process holds D, naming its pid; a dead run's lock is taken over", async () => {
  const run = join(dir, "run");
  assert.equal((await runHere([...TRAIN, "--dataset", idx, "--epochs", "1", "--out", run])).code, 0);
  assert.deepEqual(lockFiles(run), [], "released after the run");
  const model = readFileSync(join(run, "model.safetensors"));

  const lock = join(run, LOCK_NAME);
  const holder = livePid();
  writeFileSync(lock, `${holder} 00c0ffee00c0ffee\n`);
  for (const args of [["--dataset", idx, "--epochs", "1", "--out", run], ["--resume", run, "--epochs", "2"]]) {
    const r = await runHere(args[0] === "--resume" ? ["train", ...args, "--quiet"] : [...TRAIN, ...args]);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, new RegExp(`${run} is being written by another tensorgrad train \\(pid ${holder}\\); wait for it, or choose another --out`));
    assert.equal(readFileSync(lock, "utf8"), `${holder} 00c0ffee00c0ffee\n`, "the holder's lock stays");
    assert.ok(readFileSync(join(run, "model.safetensors")).equals(model), "nothing written");
  }

  // the holder died (and an older run died while locking, leaving its file beside the lock)
  const gone = deadPid();
  writeFileSync(lock, `${gone}\n`);
  writeFileSync(`${lock}.${deadPid()}-0123`, `${deadPid()} 0123\n`);
  const r = await runHere(["train", "--resume", run, "--epochs", "2", "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(join(run, "checkpoint", "state.json"), "utf8")).extra.epoch, 2, "it trained");
  assert.deepEqual(lockFiles(run), [], "the stale lock and the leftover are gone");
});

test("lockRunDir: of many runs taking over the same stale lock at once, exactly one wins", async () => {
  const pids = Array.from({ length: 6 }, livePid);
  for (let round = 0; round < 12; round++) {
    const d = mkdtempSync(join(dir, "race-"));
    const stale = `${deadPid()} ${round}\n`;
    writeFileSync(join(d, LOCK_NAME), stale);
    // some rounds: a run died while taking over, after claiming the stale lock
    const tag = createHash("sha256").update(stale).digest("hex").slice(0, 16);
    if (round % 3 === 2) writeFileSync(join(d, `${LOCK_NAME}.takeover-${tag}-0`), `${deadPid()} 0\n`);
    // every run has read the stale lock before any takes it over; then all at once, or one by one
    // (each after the one before has replaced the stale lock: a plain "delete, link" would remove it)
    let arrived = 0;
    let go!: () => void;
    const allRead = new Promise<void>((r) => (go = r));
    const barrier = async () => {
      const place = arrived++;
      if (arrived === pids.length) go();
      await allRead;
      if (round % 2 === 1) await new Promise((r) => setTimeout(r, 5 * place));
    };
    const results = await Promise.allSettled(pids.map((pid) => lockRunDir(d, { pid, beforeTakeover: barrier })));
    const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [{ release: r.value, pid: pids[i]! }] : []));
    assert.equal(won.length, 1, `round ${round}: ${won.length} winners (${won.map((w) => w.pid).join(", ")})`);
    const winner = won[0]!;
    assert.match(readFileSync(join(d, LOCK_NAME), "utf8"), new RegExp(`^${winner.pid}\\b`));
    for (const r of results)
      if (r.status === "rejected") assert.match((r.reason as Error).message, new RegExp(`being written by another tensorgrad train \\(pid ${winner.pid}\\)`));
    assert.deepEqual(lockFiles(d), [LOCK_NAME], "no claims or temporaries left");
    winner.release();
    assert.deepEqual(lockFiles(d), []);
  }
  // runs in this one process (one pid): a lock it holds is live, one with its pid that it does not hold is stale
  for (let round = 0; round < 6; round++) {
    const d = mkdtempSync(join(dir, "same-"));
    writeFileSync(join(d, LOCK_NAME), `${round % 2 ? process.pid : deadPid()}\n`);
    const results = await Promise.allSettled([lockRunDir(d), lockRunDir(d), lockRunDir(d)]);
    const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    assert.equal(won.length, 1, `round ${round}: ${won.length} winners`);
    for (const r of results) if (r.status === "rejected") assert.match((r.reason as Error).message, new RegExp(`\\(pid ${process.pid}\\)`));
    won[0]!();
    assert.deepEqual(lockFiles(d), []);
  }
});

test("lockRunDir across processes: one of four racing on a stale lock wins, the others name it", async () => {
  const script = `import { lockRunDir } from ${JSON.stringify(join(process.cwd(), "src/cli/lock.ts"))};
import { createInterface } from "node:readline";
let release = null;
console.log("ready");
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, d] = line.split(" ");
  if (cmd === "lock") lockRunDir(d).then((r) => { release = r; console.log("won"); }, (e) => console.log("refused " + e.message));
  else if (cmd === "release") { release?.(); release = null; console.log("released"); }
}`;
  const file = join(dir, "locker.mts");
  writeFileSync(file, script);
  const children = Array.from({ length: 4 }, () => spawn(process.execPath, ["--import", "tsx", file], { stdio: ["pipe", "pipe", "inherit"] }));
  try {
    const lines = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
    const next = async () => Promise.all(lines.map(async (l) => String((await l.next()).value)));
    assert.deepEqual(await next(), ["ready", "ready", "ready", "ready"]);
    for (let round = 0; round < 5; round++) {
      const d = mkdtempSync(join(dir, "procs-"));
      writeFileSync(join(d, LOCK_NAME), `${deadPid()}\n`);
      for (const c of children) c.stdin!.write(`lock ${d}\n`);
      const said = await next();
      const winners = children.filter((_, i) => said[i] === "won");
      assert.equal(winners.length, 1, said.join("\n"));
      for (const s of said) if (s !== "won") assert.match(s, new RegExp(`^refused .* \\(pid ${winners[0]!.pid}\\)`));
      for (const c of children) c.stdin!.write("release\n");
      await next();
      assert.ok(!existsSync(join(d, LOCK_NAME)));
    }
  } finally {
    for (const c of children) c.kill();
  }
});
