/**
 * @file The browser bundle's stand-in for addon.ts (scripts/build-browser.ts aliases it): an N-API
 * addon is a Node.js shared library, so in a browser the native backend is simply unavailable and
 * `tg.backend.info()` says why; nothing here touches `node:*` modules.
 */
import type { NativeAddon } from "./addon.ts";

export type { NativeAddon } from "./addon.ts";

/** Always null: there is no addon to load in a browser. */
export function nativeAddon(): NativeAddon | null {
  return null;
}

/** Why the native backend is unavailable here. */
export function nativeUnavailableReason(): string {
  return "the native addon runs only in Node.js (in a browser use the wasm or js backend)";
}
