#!/usr/bin/env node
/**
 * @file Builds the optional native backend (native/, an N-API addon) with node-gyp. It runs as
 * the package's `install` script, so it must never make an install fail: when there is no
 * compiler, no make, no Python, no local Node headers, or the build or a test load fails, it
 * prints one line saying why, records the reason in native/build-status.json (which
 * `tg.backend.info()` reports), and exits 0; tensorgrad then runs on wasm/js. Nothing is
 * downloaded: node-gyp gets `--nodedir` pointing at headers already on this machine.
 *
 *   node scripts/build-native.mjs            # what `npm install` / `npm ci` run (never fails)
 *   npm run build:native                     # the same, verbose, exit 1 on failure (--strict)
 *   TG_NATIVE=0 npm ci                       # skip the native build altogether
 *
 * Options: --strict (exit 1 when not built), --verbose (print the build log), --force (rebuild
 * even when up to date), --allow-download (let node-gyp fetch Node headers when none are local).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const NATIVE = join(ROOT, "native");
const ADDON = join(NATIVE, "build", "Release", "tensorgrad_native.node");
const STATUS = join(NATIVE, "build-status.json");
const LOG = join(NATIVE, "build.log");

const flags = new Set(process.argv.slice(2));
const strict = flags.has("--strict");
const verbose = flags.has("--verbose");

/** One line for the person running npm install. */
function say(msg) {
  process.stderr.write(`tensorgrad: ${msg}\n`);
}

function writeStatus(status) {
  try {
    writeFileSync(STATUS, `${JSON.stringify({ ...status, node: process.version, abi: process.versions.modules, platform: `${process.platform}-${process.arch}`, date: new Date().toISOString() }, null, 2)}\n`);
  } catch {
    // a read-only install directory: the runtime then says "not built" without the reason
  }
}

/** Records why the addon is not built, says so, and ends (exit 0 unless --strict). */
function skip(reason) {
  writeStatus({ built: false, reason });
  say(`native backend not built: ${reason}; using the wasm/js backends (this is fine).`);
  process.exit(strict ? 1 : 0);
}

/** A fingerprint of the sources and the runtime they were built for. */
function sourceHash() {
  const h = createHash("sha256");
  h.update(`${process.versions.modules} ${process.platform} ${process.arch}\n`);
  h.update(readFileSync(join(NATIVE, "binding.gyp")));
  const src = join(NATIVE, "src");
  for (const f of readdirSync(src).sort()) h.update(f).update(readFileSync(join(src, f)));
  return h.digest("hex").slice(0, 16);
}

function onPath(names) {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  const exts = process.platform === "win32" ? (process.env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const name of names) for (const d of dirs) for (const e of exts) if (existsSync(join(d, name + e))) return join(d, name + e);
  return null;
}

/** npm's bundled node-gyp (npm passes it to scripts as npm_config_node_gyp), else a local or global one. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    join(dirname(process.execPath), "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  try {
    candidates.push(createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js"));
  } catch {
    // not installed locally
  }
  return candidates.find((c) => c !== undefined && c !== "" && existsSync(c)) ?? null;
}

/** A directory holding include/node/node_api.h for this Node, without downloading anything. */
function findNodeDir() {
  const candidates = [
    process.env.npm_config_nodedir,
    process.env.npm_config_node_dir,
    join(dirname(process.execPath), ".."),
    process.config?.variables?.node_prefix,
  ];
  for (const c of candidates) if (c !== undefined && c !== "" && existsSync(join(c, "include", "node", "node_api.h"))) return c;
  // node-gyp's own cache of previously downloaded headers
  const devdir = process.env.npm_config_devdir ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "node-gyp");
  const cached = join(devdir, process.versions.node);
  if (existsSync(join(cached, "include", "node", "node_api.h"))) return cached;
  return null;
}

function main() {
  if (process.env.TG_NATIVE === "0") skip("disabled by TG_NATIVE=0");
  if (!existsSync(join(NATIVE, "binding.gyp"))) skip("native/binding.gyp is missing from this installation");

  const hash = sourceHash();
  if (!flags.has("--force") && existsSync(ADDON) && existsSync(STATUS)) {
    try {
      const prev = JSON.parse(readFileSync(STATUS, "utf8"));
      if (prev.built === true && prev.hash === hash) {
        say(`native backend up to date (${prev.kernel}).`);
        return;
      }
    } catch {
      // rebuild
    }
  }

  const nodeGyp = findNodeGyp();
  if (nodeGyp === null) skip("node-gyp not found (it ships with npm)");
  if (process.platform !== "win32") {
    if (onPath(["make"]) === null) skip("`make` is not on PATH");
    const cxx = process.env.CXX !== undefined && process.env.CXX !== "" ? process.env.CXX.split(" ")[0] : null;
    if (cxx === null ? onPath(["c++", "g++", "clang++"]) === null : onPath([cxx]) === null && !existsSync(cxx))
      skip(`no C++ compiler on PATH (${cxx ?? "c++, g++ or clang++"})`);
    if (process.env.npm_config_python === undefined && process.env.PYTHON === undefined && onPath(["python3", "python"]) === null)
      skip("Python 3 (needed by node-gyp) is not on PATH");
  }
  const args = [nodeGyp, "rebuild", `--directory=${NATIVE}`, "--jobs=max"];
  const nodedir = findNodeDir();
  if (nodedir !== null) args.push(`--nodedir=${nodedir}`);
  else if (!flags.has("--allow-download")) skip("Node headers (include/node/node_api.h) not found locally; `npm run build:native -- --allow-download` lets node-gyp fetch them");

  say("building the optional native backend (node-gyp)…");
  const r = spawnSync(process.execPath, args, { cwd: NATIVE, encoding: "utf8", timeout: 600_000, env: { ...process.env, JOBS: "max" } });
  const log = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  try {
    mkdirSync(NATIVE, { recursive: true });
    writeFileSync(LOG, log);
  } catch {
    // nowhere to write the log
  }
  if (verbose) process.stderr.write(log);
  if (r.error !== undefined || r.status !== 0 || !existsSync(ADDON)) {
    const why = r.error?.message ?? log.split("\n").find((l) => /error|not found|No such file/i.test(l) && !l.startsWith("gyp info"))?.trim() ?? `node-gyp exited with ${r.status}`;
    skip(`the build failed (${why.slice(0, 160)}; full log: native/build.log)`);
  }

  // load it in a child process: a broken binary must not take this process (or npm) down
  const probe = spawnSync(process.execPath, ["-e", `const m = require(${JSON.stringify(ADDON)}); const a = new Float32Array([1, 2, 3, 4]); const c = new Float32Array(4); m.sgemm(a, a, c, new Float64Array([1, 2, 2, 2, 0, 4, 2, 1, 0, 4, 2, 1])); if (c.join() !== "7,10,15,22") throw new Error("wrong product " + c.join()); process.stdout.write(m.kernelName());`], { encoding: "utf8", timeout: 60_000 });
  if (probe.status !== 0) skip(`the addon was built but does not load (${(probe.stderr ?? "").trim().split("\n").find((l) => l.includes("Error")) ?? `exit ${probe.status}`})`);
  const kernel = probe.stdout.trim();
  writeStatus({ built: true, reason: null, kernel, hash });
  say(`native backend built (sgemm kernel: ${kernel}); select it with tg.backend.use("native").`);
}

main();
