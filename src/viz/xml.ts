/** @file Text and coordinates as tensorgrad's SVG and HTML writers emit them. */

/** Text safe in XML and HTML elements and attributes (characters XML 1.0 forbids are dropped). */
export function xml(s: string): string {
  return s
    // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters removed
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Coordinates rounded to 0.1 px: short, stable output. */
export function px(v: number): string {
  const r = Math.round(v * 10) / 10;
  return Object.is(r, -0) ? "0" : String(r);
}
