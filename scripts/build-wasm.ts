/**
 * @file Compiles the wasm backend's AssemblyScript kernels (src/backend/wasm/assembly/) into
 * src/backend/wasm/build/ and dist/backend/wasm/build/, one module per feature variant, and
 * generates src/backend/wasm/kernels.generated.ts from the compiler's `--bindings raw` declarations:
 * the host side's typed interface of the exported functions and their names, so the entry points
 * of assembly/index.ts are the only list of them. Run by `npm run build` before `tsc` (and so by
 * `npm ci` through `prepare`), and by `npm run typecheck`; nothing it writes is committed.
 *
 *   node --import tsx scripts/build-wasm.ts          # build when the sources changed
 *   node --import tsx scripts/build-wasm.ts --force  # always build
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCES = join(ROOT, "src/backend/wasm/assembly");
const OUT_DIRS = [join(ROOT, "src/backend/wasm/build"), join(ROOT, "dist/backend/wasm/build")];
/** The generated declarations of the kernel exports (gitignored). */
export const GENERATED = join(ROOT, "src/backend/wasm/kernels.generated.ts");

/** What each variant enables. Relaxed SIMD gives fused multiply-add; shared memory lets worker threads share the heap. */
export const VARIANTS: Record<string, { relaxed: boolean; shared: boolean }> = {
  "kernels-relaxed-shared": { relaxed: true, shared: true },
  "kernels-simd-shared": { relaxed: false, shared: true },
  "kernels-relaxed": { relaxed: true, shared: false },
  "kernels-simd": { relaxed: false, shared: false },
};

function flags(v: { relaxed: boolean; shared: boolean }): string[] {
  const f = ["-O3", "--noAssert", "--runtime", "stub", "--enable", "simd", "--importMemory", "--initialMemory", "1"];
  if (v.relaxed) f.push("--enable", "relaxed-simd");
  // a shared memory needs the threads feature and a declared maximum (4 GiB: the wasm32 limit)
  if (v.shared) f.push("--enable", "threads", "--sharedMemory", "--maximumMemory", "65536");
  else f.push("--maximumMemory", "65536");
  return f;
}

/** A hash of everything the binaries depend on: the kernel sources, the flags, the compiler version. */
export function sourceHash(): string {
  const h = createHash("sha256");
  for (const name of readdirSync(SOURCES).sort()) if (name.endsWith(".ts")) h.update(name).update(readFileSync(join(SOURCES, name)));
  h.update(JSON.stringify(Object.entries(VARIANTS).map(([k, v]) => [k, flags(v)])));
  const ascPkg = join(ROOT, "node_modules/assemblyscript/package.json");
  if (existsSync(ascPkg)) h.update((JSON.parse(readFileSync(ascPkg, "utf8")) as { version: string }).version);
  return h.digest("hex").slice(0, 16);
}

/** True when every output folder holds binaries built from the current sources, and the generated declarations come from them. */
export function isFresh(): boolean {
  const hash = sourceHash();
  if (!existsSync(GENERATED) || !readFileSync(GENERATED, "utf8").includes(`sources ${hash}`)) return false;
  return OUT_DIRS.every((dir) => {
    const manifest = join(dir, "manifest.json");
    if (!existsSync(manifest)) return false;
    const m = JSON.parse(readFileSync(manifest, "utf8")) as { hash?: string };
    return m.hash === hash && Object.keys(VARIANTS).every((name) => existsSync(join(dir, `${name}.wasm`)));
  });
}

/** Writes atomically (temp file + rename), so concurrent builds (parallel test files) never see half a file. */
function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** 32-bit integer types of AssemblyScript (`usize` is a wasm32 address): what threads.ts's control block can pass. */
const INT32 = new Set(["i32", "u32", "usize", "isize", "bool", "i8", "u8", "i16", "u16"]);

/**
 * kernels.generated.ts from asc's `--bindings raw` .d.ts: each exported function's signature (with
 * the source module it comes from), the names in export order with their parameter counts, and the
 * union of those whose parameters are all 32-bit integers. Throws when it finds no function.
 */
export function kernelsModule(dts: string, hash: string): string {
  const fns: { name: string; sig: string; from: string; types: string[] }[] = [];
  for (const m of dts.matchAll(/\/\*\*\n\s*\* (\S+)\n((?:\s*\*.*\n)*?)\s*\*\/\n\s*export function (\w+)(\(.*\): \w+);/g)) {
    const [, path, doc, name, sig] = m as unknown as [string, string, string, string, string];
    const from = `assembly/${path.split("/").slice(-2, -1)[0]}.ts`;
    fns.push({ name, sig, from, types: [...doc.matchAll(/@param \w+ `(\w+)`/g)].map((t) => t[1]!) });
  }
  if (fns.length === 0) throw new Error("build-wasm: no exported function found in the asc bindings");
  const q = (names: string[]) => names.map((n) => JSON.stringify(n));
  return [
    `// Generated by scripts/build-wasm.ts from asc's --bindings raw output for assembly/index.ts (sources ${hash}): do not edit.`,
    "/** The kernel module's exported functions: byte addresses, element strides and sizes (see the assembly/*.ts each comes from). */",
    "export interface KernelExports {",
    ...fns.flatMap((f) => [`  /** ${f.from} */`, `  ${f.name}${f.sig};`]),
    "}",
    "/** Every exported function, in export order (threads.ts indexes calls by it). */",
    `export const KERNEL_NAMES = [${q(fns.map((f) => f.name)).join(", ")}] as const;`,
    "/** Each exported function's parameter count. */",
    `export const KERNEL_ARITY: Readonly<Record<keyof KernelExports, number>> = { ${fns.map((f) => `${f.name}: ${f.types.length}`).join(", ")} };`,
    "/** The kernels whose parameters are all 32-bit integers: those threads.ts's runCalls can hand to a worker. */",
    `export type Int32Kernel = ${q(fns.filter((f) => f.types.every((t) => INT32.has(t))).map((f) => f.name)).join(" | ") || "never"};`,
    "",
  ].join("\n");
}

/** Compiles every variant; returns the output folders. Skips the work when the binaries are fresh unless `force`. */
export async function buildWasm(force = false): Promise<string[]> {
  if (!force && isFresh()) return OUT_DIRS;
  const { default: asc } = await import("assemblyscript/asc");
  const entry = join(SOURCES, "index.ts");
  const binaries: Record<string, Uint8Array> = {};
  let dts: string | undefined;
  for (const [name, v] of Object.entries(VARIANTS)) {
    let binary: Uint8Array | undefined;
    let stderrText = "";
    // every variant exports the same functions: the first one's bindings declare them
    const bindings = dts === undefined ? ["--bindings", "raw"] : [];
    const { error } = await asc.main([entry, "--outFile", `${name}.wasm`, ...flags(v), ...bindings], {
      writeFile: (file: string, contents: Uint8Array | string) => {
        if (file.endsWith(".wasm") && typeof contents !== "string") binary = contents;
        if (file.endsWith(".d.ts")) dts = typeof contents === "string" ? contents : new TextDecoder().decode(contents);
      },
      stderr: {
        write: (chunk: Uint8Array | string) => {
          stderrText += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
          return true;
        },
      } as never,
    });
    if (error !== null || binary === undefined)
      throw new Error(`build-wasm: ${name} failed: ${error?.message ?? "no output"}\n${stderrText}`);
    binaries[name] = binary;
  }
  const hash = sourceHash();
  for (const dir of OUT_DIRS) {
    mkdirSync(dir, { recursive: true });
    for (const [name, bin] of Object.entries(binaries)) writeAtomic(join(dir, `${name}.wasm`), bin);
    writeAtomic(join(dir, "manifest.json"), `${JSON.stringify({ hash, variants: VARIANTS }, null, 2)}\n`);
  }
  writeAtomic(GENERATED, kernelsModule(dts ?? "", hash));
  return OUT_DIRS;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const force = process.argv.includes("--force");
  const t0 = Date.now();
  const fresh = !force && isFresh();
  buildWasm(force).then(
    (dirs) =>
      console.log(
        fresh
          ? "build-wasm: up to date"
          : `build-wasm: ${Object.keys(VARIANTS).length} variants → ${dirs.map((d) => d.slice(ROOT.length + 1)).join(", ")} (${Date.now() - t0} ms)`,
      ),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
