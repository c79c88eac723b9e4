/** @file Runs the `tensorgrad` CLI in the test's own process (fast), capturing what it prints. */
import { main } from "../src/cli/cli.ts";

/** `main(args)`'s exit code and what it printed to stdout and stderr. */
export async function runHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const code = await main(args);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}
