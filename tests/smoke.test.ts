import assert from "node:assert/strict";
import { test } from "node:test";
import * as tg from "../src/index.ts";

test("a scalar function's gradient by backward()", () => {
  const x = tg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
  x.mul(x).sum().backward();
  assert.deepEqual(x.grad?.toArray(), [[2, 4], [6, 8]]);
});
