/** @file A strict JSON parser for untrusted input: objects become Maps, duplicate keys and deep nesting are errors. */

/** A parsed JSON value. Objects are Maps so that keys such as `__proto__` stay plain data and key order is kept. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export type JsonObject = Map<string, Json>;

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/**
 * Parses `text` as one JSON value (RFC 8259). Unlike `JSON.parse` it rejects duplicate object
 * keys and nesting deeper than `maxDepth`, and it never overflows the stack. Every failure is a
 * plain `Error` whose message gives the character position.
 *
 * @example parseJson('{"a": [1, 2]}') // Map { "a" => [1, 2] }
 */
export function parseJson(text: string, maxDepth = 64): Json {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`invalid JSON at character ${i}: ${what}`);
  };
  const skipSpace = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  };
  const expect = (ch: string) => {
    skipSpace();
    if (text[i] !== ch) fail(`expected '${ch}'${i < text.length ? "" : " before the end"}`);
    i++;
  };
  const parseString = (): string => {
    i++; // opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail("control character in string");
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      if (e === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
      } else if (e !== undefined && e in ESCAPES) {
        out += ESCAPES[e];
        i += 2;
      } else fail("bad escape");
      start = i;
    }
    out += text.slice(start, i);
    i++; // closing quote
    return out;
  };
  const parseValue = (depth: number): Json => {
    skipSpace();
    const c = text[i];
    if (c === '"') return parseString();
    if (c === "{" || c === "[") {
      if (depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
      i++;
      skipSpace();
      const close = c === "{" ? "}" : "]";
      const obj: JsonObject = new Map();
      const arr: Json[] = [];
      if (text[i] === close) {
        i++;
        return c === "{" ? obj : arr;
      }
      for (;;) {
        if (c === "{") {
          skipSpace();
          if (text[i] !== '"') fail("expected a string key");
          const keyAt = i;
          const key = parseString();
          if (obj.has(key)) {
            i = keyAt;
            fail(`duplicate key ${JSON.stringify(key.slice(0, 100))}`);
          }
          expect(":");
          obj.set(key, parseValue(depth + 1));
        } else arr.push(parseValue(depth + 1));
        skipSpace();
        if (text[i] === ",") i++;
        else if (text[i] === close) {
          i++;
          return c === "{" ? obj : arr;
        } else fail(`expected ',' or '${close}'`);
      }
    }
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) fail(i < text.length ? "unexpected character" : "unexpected end");
    i += m![0].length;
    return Number(m![0]);
  };
  const value = parseValue(0);
  skipSpace();
  if (i !== text.length) fail("unexpected text after the value");
  return value;
}
