/** @file Which JavaScript environment this is, for the few features that need Node.js (files, PNG rendering). */

/** Whether tensorgrad runs under Node.js (or a runtime that provides its built-in modules). */
export const isNode: boolean = typeof process !== "undefined" && typeof process.versions?.node === "string";

/**
 * Throws a clear error where Node.js is missing (a browser), instead of a failed `import("node:…")`.
 * @param what the public function's name, e.g. "datasets.mnist"
 */
export function requireNode(what: string, hint = ""): void {
  if (!isNode) throw new Error(`${what}: not available in a browser (needs Node.js${hint === "" ? "" : `; ${hint}`})`);
}

/**
 * A promise that resolves on a later turn of the event loop, so that timers, I/O and the UI get
 * a turn during a long async loop: `setImmediate` in Node; elsewhere a MessageChannel message,
 * which browsers do not throttle the way they clamp nested `setTimeout(0)` to 4 ms.
 */
export const nextTick: () => Promise<void> =
  typeof setImmediate === "function"
    ? () => new Promise<void>((resolve) => setImmediate(resolve))
    : () =>
        new Promise<void>((resolve) => {
          const { port1, port2 } = new MessageChannel();
          // the browser's MessagePort (this branch never runs in Node, whose typings lack onmessage)
          (port1 as unknown as { onmessage: () => void }).onmessage = () => {
            port1.close();
            resolve();
          };
          port2.postMessage(null);
        });
