#!/usr/bin/env node
/** @file The executable behind `tensorgrad` (package.json "bin"): runs the CLI and sets the exit code. */
import { main } from "./cli.ts";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`tensorgrad: error: ${(e as Error)?.message ?? String(e)}`);
    process.exitCode = 1;
  },
);
