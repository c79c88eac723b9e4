/**
 * @file The wasm kernel exports have one source, assembly/index.ts: scripts/build-wasm.ts generates
 * src/backend/wasm/kernels.generated.ts from asc's bindings. Checks that the generated list is what
 * every compiled variant exports (names and parameter counts), that it comes from the current
 * sources, that every kernel the host glue calls is in it, and the generator's own parsing.
 */
import "./ensure-wasm.ts";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { KERNEL_ARITY, KERNEL_NAMES } from "../src/backend/wasm/kernels.generated.ts";
import { getRuntime, wasmAvailable } from "../src/backend/wasm/runtime.ts";
import { GENERATED, kernelsModule, sourceHash, VARIANTS } from "../scripts/build-wasm.ts";

const WASM = "src/backend/wasm";
const sorted = (names: Iterable<string>) => [...names].sort();

describe("wasm kernel exports", () => {
  test("the generated declarations come from the current kernel sources", () => {
    assert.ok(readFileSync(GENERATED, "utf8").includes(`sources ${sourceHash()}`), "kernels.generated.ts is stale: run npm run build:wasm");
    assert.ok(KERNEL_NAMES.length >= 20);
    assert.deepEqual(sorted(Object.keys(KERNEL_ARITY)), sorted(KERNEL_NAMES));
  });

  test("every variant exports exactly the generated functions", () => {
    wasmAvailable(); // turns relaxed SIMD on where Node needs a flag for it
    let checked = 0;
    for (const name of Object.keys(VARIANTS)) {
      const bytes = readFileSync(join(WASM, "build", `${name}.wasm`));
      if (!WebAssembly.validate(bytes)) continue; // a variant this runtime cannot run
      checked++;
      const fns = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).filter((e) => e.kind === "function");
      assert.deepEqual(sorted(fns.map((e) => e.name)), sorted(KERNEL_NAMES), name);
    }
    assert.ok(checked >= 2, `only ${checked} variants validate here`);
  });

  test("the loaded module's functions take the generated parameter counts", { skip: !wasmAvailable() }, () => {
    const k = getRuntime().kernels as unknown as Record<string, (...a: number[]) => unknown>;
    for (const name of KERNEL_NAMES) assert.equal(k[name]!.length, KERNEL_ARITY[name], name);
  });

  test("every kernel the host glue calls is exported", () => {
    const called = new Set<string>();
    for (const file of readdirSync(WASM).filter((f) => f.endsWith(".ts") && !f.endsWith(".generated.ts"))) {
      const src = readFileSync(join(WASM, file), "utf8");
      // direct calls (rt.kernels.x, the workers' k.x) and the names of runCalls' call tuples
      for (const m of src.matchAll(/\bk(?:ernels)?\.(\w+)\(/g)) called.add(m[1]!);
      for (const m of src.matchAll(/"(\w+F32)"/g)) called.add(m[1]!);
    }
    assert.ok(called.size >= 15, `found only ${[...called].join(", ")}`);
    const missing = [...called].filter((n) => !(KERNEL_NAMES as readonly string[]).includes(n));
    assert.deepEqual(missing, []);
  });

  test("the generator reads asc's bindings: signatures, arities, int32-only kernels", () => {
    const dts = [
      "declare namespace __AdaptedExports {",
      "  /** src/backend/wasm/assembly/gemm/MC */",
      "  export const MC: {",
      "    /** @type `i32` */",
      "    get value(): number",
      "  };",
      "  /**",
      "   * src/backend/wasm/assembly/gemm/sgemm",
      "   * @param M `i32`",
      "   * @param a `usize`",
      "   */",
      "  export function sgemm(M: number, a: number): void;",
      "  /**",
      "   * src/backend/wasm/assembly/window/scale",
      "   * @param x `usize`",
      "   * @param s `f64`",
      "   * @returns `i32`",
      "   */",
      "  export function scale(x: number, s: number): number;",
      "}",
    ].join("\n");
    const out = kernelsModule(dts, "abc");
    assert.match(out, /sources abc/);
    assert.match(out, /\/\*\* assembly\/gemm\.ts \*\/\n {2}sgemm\(M: number, a: number\): void;/);
    assert.match(out, /scale\(x: number, s: number\): number;/);
    assert.match(out, /KERNEL_NAMES = \["sgemm", "scale"\] as const/);
    assert.match(out, /\{ sgemm: 2, scale: 2 \}/);
    assert.match(out, /export type Int32Kernel = "sgemm";/);
    assert.throws(() => kernelsModule("declare namespace __AdaptedExports {}", "abc"), /no exported function/);
  });
});
