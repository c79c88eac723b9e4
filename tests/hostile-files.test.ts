/**
 * @file Hostile files in a child process with a timeout and an RSS ceiling: IDX gzip bombs,
 * special files (/dev/zero, a FIFO with no writer, a directory) for loadIdx and safetensors
 * load/loadSync; and a fast-check fuzz of random gzip members through the IDX loader.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { loadIdx } from "../src/datasets/idx.ts";

const dir = mkdtempSync(join(tmpdir(), "tg-hostile-"));

function idx(magic: number, dims: number[], data: Uint8Array = new Uint8Array(dims.reduce((a, b) => a * b, 1))): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  for (const [i, d] of dims.entries()) head.writeUInt32BE(d, 4 + 4 * i);
  return Buffer.concat([head, data]);
}

/** A gzip member of 1 MiB of zeros (about 1 KiB), repeated to make bombs cheaply. */
const MIB_OF_ZEROS = gzipSync(Buffer.alloc(1 << 20));
function bomb(dims: number[], mib: number): Buffer {
  return Buffer.concat([gzipSync(idx(0x803, dims, new Uint8Array(0))), ...Array.from({ length: mib }, () => MIB_OF_ZEROS)]);
}

const labels = join(dir, "labels");
writeFileSync(labels, idx(0x801, [10]));

interface Outcome {
  message: string;
  ms: number;
  rssMiB: number;
}

/** Runs the cases ("kind:file[:other]") in one child process, killed after 10 s. */
function child(...cases: string[]): Outcome[] {
  const r = spawnSync(process.execPath, ["--import", "tsx", "tests/fixtures/hostile-files.ts", ...cases], { encoding: "utf8", timeout: 10_000 });
  assert.equal(r.signal, null, `killed by ${r.signal} (a hang?) after: ${r.stdout} ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Outcome);
}

test("loadIdx rejects gzip bombs after inflating little more than the header declares", () => {
  writeFileSync(join(dir, "bomb.gz"), bomb([10, 5, 6], 600));
  writeFileSync(join(dir, "huge.gz"), bomb([10_000_000, 4096, 4096], 1));
  const [r, huge] = child(`idx:${join(dir, "bomb.gz")}:${labels}`, `idx:${join(dir, "huge.gz")}:${labels}`) as [Outcome, Outcome];
  assert.match(r.message, /should hold 300 data bytes for dims \[10, 5, 6\], but inflates to more \(corrupt, or a gzip bomb\)/);
  assert.ok(r.ms < 1000, `${r.ms} ms`);
  assert.ok(r.rssMiB < 100, `${r.rssMiB} MiB above the baseline`);
  // a header announcing more than loadIdx reads is refused before anything is inflated
  assert.match(huge.message, /announces dims \[10000000, 4096, 4096\]: .* more than the 1073741824 loadIdx reads/);
});

test("special files are 'not a regular file' for loadIdx, load and loadSync (no hang)", () => {
  const fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  const files = ["/dev/zero", fifo, dir];
  const out = child(...files.flatMap((f) => [`idx:${f}:${labels}`, `load:${f}`, `sync:${f}`]));
  files.forEach((f, i) => {
    assert.equal(out[3 * i]!.message, `loadIdx: ${f} is not a regular file`);
    assert.equal(out[3 * i + 1]!.message, `safetensors file "${f}": not a regular file`);
    assert.equal(out[3 * i + 2]!.message, `safetensors file "${f}": not a regular file`);
  });
  assert.ok(out.every((o) => o.rssMiB < 100 && o.ms < 1000), JSON.stringify(out));
});

test("fuzz: random gzip members through loadIdx load or reject clearly, within a memory ceiling", async () => {
  const base = process.resourceUsage().maxRSS / 1024;
  const file = join(dir, "fuzz.gz");
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 3, maxLength: 3 }),
      fc.integer({ min: -3, max: 3 }),
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 0, max: 9 }),
      fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }))),
      async (dims, extra, bombMiB, level, flip) => {
        const n = 10 * dims[1]! * dims[2]!;
        const payload = new Uint8Array(Math.max(0, n + extra)).map((_, i) => (i * 37) & 255);
        const members = [gzipSync(idx(0x803, [10, ...dims.slice(1)], new Uint8Array(0)), { level }), gzipSync(payload, { level })];
        for (let i = 0; i < bombMiB; i++) members.push(MIB_OF_ZEROS);
        const bytes = Buffer.concat(members);
        if (flip) bytes[flip[0] % bytes.length] = flip[1];
        writeFileSync(file, bytes);
        try {
          const { x } = await loadIdx(file, labels);
          assert.deepEqual(x.shape, [10, dims[1]! * dims[2]!]);
        } catch (e) {
          assert.match((e as Error).message, /^loadIdx: /);
        }
      },
    ),
    { numRuns: 150, seed: 18 },
  );
  const grew = process.resourceUsage().maxRSS / 1024 - base;
  assert.ok(grew < 100, `the fuzz raised peak RSS by ${grew} MiB`);
});
