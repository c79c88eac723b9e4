/**
 * @file Adam / AdamW on float32 parameters against torch.optim in float32
 * (tests/golden/adam_float32.json, generate_adam_float32.py), on every backend: the first step
 * bit for bit (the moments start at zero, so PyTorch's fused multiply-adds change nothing and the
 * order of the square root, bias corrections, ε and division is what is checked), later steps
 * within a few float32 ulps.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as tg from "../src/index.ts";
import { onBackend } from "./tensor-helpers.ts";

interface Golden {
  init: number[];
  grads: number[][];
  cases: { optimizer: "Adam" | "AdamW"; options: Partial<tg.optim.AdamOptions>; after: number[][] }[];
}
const golden = JSON.parse(readFileSync(new URL("./golden/adam_float32.json", import.meta.url), "utf8")) as Golden;

for (const backend of tg.backend.list())
  for (const { optimizer, options, after } of golden.cases)
    test(`${backend}: ${optimizer} ${JSON.stringify(options)} on float32 matches torch.optim (step 1 exactly)`, () => {
      onBackend(backend, () => {
        const p = new tg.nn.Parameter(tg.tensor(golden.init));
        const opt = optimizer === "Adam" ? new tg.optim.Adam([p], options) : new tg.optim.AdamW([p], options);
        for (const [step, want] of after.entries()) {
          p.grad = tg.tensor(golden.grads[step]!);
          opt.step();
          const got = p.dataSync() as Float32Array;
          for (let i = 0; i < want.length; i++) {
            if (step === 0) {
              if (!Object.is(got[i], want[i])) assert.fail(`step 1, element ${i}: ${got[i]}, torch gives ${want[i]}`);
            } else if (Math.abs(got[i]! - want[i]!) > 4e-7 * Math.max(1, Math.abs(want[i]!))) {
              assert.fail(`step ${step + 1}, element ${i}: ${got[i]}, torch gives ${want[i]}`);
            }
          }
        }
      });
    });
