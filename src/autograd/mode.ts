/** @file Whether ops record a graph right now (`noGrad` turns it off). */

let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` with graph recording set to `on`, restoring the previous mode afterwards (internal). */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/**
 * Runs `fn` without recording a graph: results do not require grad. Use it for parameter
 * updates and evaluation. Synchronous: an async `fn` is only covered until its first `await`.
 *
 * @example
 * tg.noGrad(() => { w.sub_(w.grad!.mul(lr)); });
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with graph recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
