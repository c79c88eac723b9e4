// tests/browser/index.html?worker runs the page script here, in a module Worker
import("./page.js")
  .then((m) => m.run())
  .then(
    (r) => postMessage(r),
    (e) => postMessage({ error: String(e?.stack ?? e?.message ?? e) }),
  );
