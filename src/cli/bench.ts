/**
 * @file `tensorgrad bench`: runs the benchmark suite (`npm run bench`, the driver in bench/run.ts)
 * with the given arguments. The suite ships with the source repository, not the npm package.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_USAGE = `usage: tensorgrad bench [driver options]

Runs the benchmark suite (bench/run.ts; a clone of the repository with its dev dependencies).
Everything after "bench" goes to the driver, e.g.:
  tensorgrad bench --only W1,W2 --frameworks tensorgrad,pytorch --threads 1,2
  tensorgrad bench --help`;

/** The package root: two levels above this file (src/cli or dist/cli). */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..");
}

export async function bench(argv: readonly string[]): Promise<number> {
  const root = packageRoot();
  const driver = join(root, "bench", "run.ts");
  if (!existsSync(driver)) {
    console.error(`tensorgrad bench: the benchmark driver (bench/run.ts) is not here (${root}); it ships with the source repository — clone it and run npm ci there`);
    return 1;
  }
  if (!existsSync(join(root, "node_modules", "tsx"))) {
    console.error("tensorgrad bench: the driver needs the dev dependencies (tsx); run npm ci in the repository first");
    return 1;
  }
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  return await new Promise<number>((resolve) => {
    // .cmd files need a shell on Windows
    const child = spawn(npm, ["run", "--silent", "bench", "--", ...argv], { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
    child.on("error", (e) => {
      console.error(`tensorgrad bench: cannot run npm: ${e.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
