/**
 * @file Bundles tensorgrad for browsers with esbuild: dist/browser/tensorgrad.js (ESM), lazily
 * loaded chunks under dist/browser/chunks/ (vega for the learning-curve SVG), and the wasm kernel
 * modules next to the bundle (fetched by `await tg.backend.ready()`). Run by `npm run build`.
 *
 *   node --import tsx scripts/build-browser.ts
 *
 * Rules the bundle enforces (the build fails otherwise):
 * - a file `x.browser.ts` beside `x.ts` replaces it (per-environment modules, e.g. the native
 *   addon loader, which in a browser only reports that the addon needs Node.js);
 * - `node:*` modules may only be imported lazily (`await import("node:fs")` inside a Node-only
 *   function, which checks `requireNode` first); a static import would break loading the bundle.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "dist/browser");
export const WASM_BUILD = join(ROOT, "src/backend/wasm/build");
/** Packages that only Node-only code paths import (lazily): left out of the bundle. */
const NODE_ONLY_PACKAGES = ["cli-progress", "@resvg/resvg-wasm", "dejavu-fonts-ttf"];

export const browserPlugin: esbuild.Plugin = {
  name: "tensorgrad-browser",
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => {
      if (args.kind === "dynamic-import") return { path: args.path, external: true };
      return {
        errors: [
          {
            text: `${args.path} is imported statically by ${args.importer}: the browser bundle cannot load it (import it lazily inside a Node-only function, or add a .browser.ts variant)`,
          },
        ],
      };
    });
    build.onResolve({ filter: new RegExp(`^(${NODE_ONLY_PACKAGES.map((p) => p.replace(/[/]/g, "\\/")).join("|")})(\\/|$)`) }, (args) =>
      args.kind === "dynamic-import"
        ? { path: args.path, external: true }
        : { errors: [{ text: `${args.path} (Node-only) is imported statically by ${args.importer}` }] },
    );
    // x.ts → x.browser.ts where one exists
    build.onResolve({ filter: /^\.\.?\/.*\.ts$/ }, (args) => {
      const file = join(args.resolveDir, args.path);
      const variant = file.replace(/\.ts$/, ".browser.ts");
      return existsSync(variant) ? { path: variant } : undefined;
    });
  },
};

/**
 * Bundles `entryPoints` for browsers into `out` (ESM with shared chunks; browserPlugin refuses
 * Node-only imports) and copies the wasm kernel modules beside them. `loader` is the entry that
 * must hold the wasm loader, which finds the kernels relative to its import.meta.url. Errors start
 * with `label`; returns how many kernel modules were copied.
 */
export async function bundleForBrowser(label: string, entryPoints: Record<string, string>, out: string, loader: string, options: esbuild.BuildOptions = {}): Promise<number> {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    outdir: out,
    plugins: [browserPlugin],
    logLevel: "warning",
    ...options,
  });
  if (result.errors.length > 0) throw new Error(`${label}: esbuild failed`);
  if (!readFileSync(join(out, `${loader}.js`), "utf8").includes("kernels-relaxed"))
    throw new Error(`${label}: the wasm loader (platform.browser.ts) ended up outside ${loader}.js, so import.meta.url would point into chunks/`);
  let kernels = 0;
  if (existsSync(WASM_BUILD))
    for (const name of readdirSync(WASM_BUILD))
      if (name.endsWith(".wasm")) {
        copyFileSync(join(WASM_BUILD, name), join(out, name));
        kernels++;
      }
  return kernels;
}

/** Builds the bundle into `out` (default dist/browser; tests build into a temporary directory). */
export async function buildBrowser(out = OUT, opts: { quiet?: boolean } = {}): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  const kernels = await bundleForBrowser("build-browser", { tensorgrad: "src/index.ts" }, out, "tensorgrad", { sourcemap: "linked", legalComments: "linked" });
  if (opts.quiet) return;
  const size = statSync(join(out, "tensorgrad.js")).size;
  console.log(
    `build-browser: dist/browser/tensorgrad.js (${(size / 1024).toFixed(0)} KiB)` +
      (kernels > 0 ? ` and ${kernels} wasm kernel modules` : "; no wasm kernels (run `npm run build:wasm` first): the bundle runs on js only"),
  );
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await buildBrowser();
