/**
 * @file The one-writer lock of a `tensorgrad train` run folder: `DIR/.tensorgrad-train.lock` names
 * the writing process; a second run refuses, naming it; a lock whose process is gone is taken over,
 * by exactly one run when several try at once.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { link, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const LOCK_NAME = ".tensorgrad-train.lock";

export interface LockOptions {
  /** The process the lock names (default this one; tests stand in other live processes). */
  pid?: number;
  /** Runs after a stale lock was read and before it is taken over (tests line racing runs up here). */
  beforeTakeover?: () => Promise<void>;
}

/** The lock texts this process holds now (a lock naming this pid but not here is a dead run's whose pid was reused). */
const held = new Set<string>();

/**
 * Makes this process the one writer of `dir`, or throws an error naming the live process that is.
 * The lock file holds "pid tag" (the tag random: every lock's text is unique) and appears complete,
 * linked in from a file written beside it. Returns the release (also run at process exit).
 *
 * Taking over a dead run's lock: "read it, see a dead pid, delete, link mine" lets two runs that read
 * the same stale lock both win (the later one deletes the earlier one's fresh lock). So a run first
 * claims that lock text: it links its file to `LOCK.takeover-<hash of the text>-0` (link fails if the
 * name exists, so one run gets it). The claimant deletes the lock only if it still holds that text
 * (none but the claimant may change it), then links its own in; whoever finds a claim whose run is
 * alive, a changed lock, or a lock linked in by a third run starts over, and then sees a live holder.
 * A claim left by a run that died while taking over is passed by: the next claim is `-1`, and so on.
 */
export async function lockRunDir(dir: string, opts: LockOptions = {}): Promise<() => void> {
  const pid = opts.pid ?? process.pid;
  const file = join(dir, LOCK_NAME);
  const text = `${pid} ${randomBytes(8).toString("hex")}\n`;
  const mine = `${file}.${text.trim().replace(" ", "-")}`;
  await writeFile(mine, text, { flag: "wx" });
  const deadline = Date.now() + 10_000;
  held.add(text); // from the moment it may be linked in
  try {
    for (;;) {
      if (await linked(mine, file)) break;
      if (Date.now() > deadline) throw new Error(`could not lock ${file}: it keeps changing; delete it and run again`);
      const now = await readFile(file, "utf8").catch(absentAsNull);
      if (now === null) continue; // released meanwhile
      const holder = pidOf(now);
      if (held.has(now) || (holder !== process.pid && isAlive(holder)))
        throw new Error(`${dir} is being written by another tensorgrad train (pid ${holder}); wait for it, or choose another --out (if pid ${holder} is no such run, delete ${file})`);
      await opts.beforeTakeover?.();
      if (await takeOver(file, now, mine)) break;
      await new Promise((r) => setTimeout(r, 2));
    }
  } catch (e) {
    held.delete(text);
    throw e;
  } finally {
    await rm(mine, { force: true });
  }
  await removeLeftovers(dir, file);
  const release = () => {
    held.delete(text);
    let now = "";
    try {
      now = readFileSync(file, "utf8");
    } catch {} // already gone
    if (now === text) rmSync(file, { force: true });
  };
  const onExit = () => release();
  process.once("exit", onExit); // also after process.exit (a second Ctrl-C)
  return () => {
    process.off("exit", onExit);
    release();
  };
}

/** Replaces the lock `file` holding `stale` (a dead run's) by `mine`; false: another run got there first, look again. */
async function takeOver(file: string, stale: string, mine: string): Promise<boolean> {
  const tag = createHash("sha256").update(stale).digest("hex").slice(0, 16);
  const claim = (k: number) => `${file}.takeover-${tag}-${k}`;
  let k = 0;
  while (!(await linked(mine, claim(k)))) {
    const taker = await readFile(claim(k), "utf8").catch(absentAsNull);
    if (taker === null) continue; // its run finished meanwhile: try this claim again
    if (isAlive(pidOf(taker))) return false; // that run is taking over now
    k += 1; // that run died while taking over
  }
  try {
    if ((await readFile(file, "utf8").catch(absentAsNull)) !== stale) return false;
    await unlink(file);
    return await linked(mine, file);
  } finally {
    for (let i = k; i >= 0; i--) await rm(claim(i), { force: true }); // mine and the dead runs' before it
  }
}

/**
 * Removes files beside the lock left by runs that died while locking (this run now holds `file`):
 * the owner of `LOCK.<pid>-<tag>` is in its name (its text may not be written yet), of a claim in its text.
 */
async function removeLeftovers(dir: string, file: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith(`${LOCK_NAME}.`)) continue;
    const path = join(dir, name);
    const named = /^\.(\d+)-/.exec(name.slice(LOCK_NAME.length));
    const owner = named ? Number(named[1]) : pidOf(await readFile(path, "utf8").catch(() => ""));
    if (path !== file && !Number.isNaN(owner) && !isAlive(owner)) await rm(path, { force: true });
  }
}

/** link(2): creates `to` as another name of `from`, atomically and only where `to` does not exist. */
function linked(from: string, to: string): Promise<boolean> {
  return link(from, to).then(
    () => true,
    (e: NodeJS.ErrnoException) => (e.code === "EEXIST" ? false : Promise.reject(e)),
  );
}

function absentAsNull(e: NodeJS.ErrnoException): null {
  if (e.code === "ENOENT") return null;
  throw e;
}

function pidOf(text: string): number {
  return Number.parseInt(text, 10);
}

export function isAlive(pid: number): boolean {
  try {
    return pid > 0 && process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, but another user's
  }
}
