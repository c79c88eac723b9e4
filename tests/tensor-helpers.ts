/** @file Helpers the tests that compare backends and fused paths share. */
import assert from "node:assert/strict";
import * as tg from "../src/index.ts";

/**
 * Asserts `got` has `want`'s shape and the same bits in every element (Object.is: −0 is not +0,
 * NaN equals NaN); `source` says where `want` came from, for the message.
 */
export function sameBits(got: tg.Tensor, want: tg.Tensor, what: string, source = "the reference gives"): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const a = got.dataSync();
  const b = want.dataSync();
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${what}: element ${i} is ${a[i]}, ${source} ${b[i]}`);
}

/** Runs `body` with backend `name` active, then restores the one that was. */
export function onBackend<T>(name: string, body: () => T): T {
  const before = tg.backend.current();
  tg.backend.use(name);
  try {
    return body();
  } finally {
    tg.backend.use(before);
  }
}
