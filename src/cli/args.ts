/** @file Command-line parsing for `tensorgrad` (node:util parseArgs) with checked conversions and usage errors. */
import { parseArgs } from "node:util";

/** A mistake in how the command was called: printed as a message with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

export type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Parses `argv` strictly: unknown options, missing values and stray arguments are UsageErrors. */
export function parse(argv: readonly string[], options: OptionSpec, usage: string, opts: { positionals?: boolean } = {}): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: opts.positionals ?? false,
    });
    return { values: values as Parsed["values"], positionals };
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, "").replace(/^Unexpected argument/, "unexpected argument");
    throw new UsageError(msg, usage);
  }
}

/** A positive integer option (or undefined when absent). */
export function intOption(v: string | boolean | undefined, name: string, usage: string, opts: { min?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  const min = opts.min ?? 1;
  if (typeof v !== "string" || v.trim() === "" || !Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`, usage);
  return n;
}

/** A number option within [min, max) or (min, max]. */
export function numberOption(v: string | boolean | undefined, name: string, usage: string, check: (n: number) => boolean, expected: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} must be ${expected}, got ${JSON.stringify(v)}`, usage);
  return n;
}

/** One of `choices`. */
export function choiceOption<T extends string>(v: string | boolean | undefined, name: string, choices: readonly T[], usage: string): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !choices.includes(v as T)) throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got ${JSON.stringify(v)}`, usage);
  return v as T;
}

/** A string option. */
export function stringOption(v: string | boolean | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}
