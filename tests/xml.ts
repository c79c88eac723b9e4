/** @file A minimal strict XML parser for the tests of the SVG renderers (graph pictures, charts). */
import assert from "node:assert/strict";

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/**
 * A minimal XML parser, strict enough to catch what breaks SVG viewers: unbalanced or
 * mis-nested tags, unquoted or duplicate attributes, raw `<` or `&` in text, several roots.
 */
export function parseXml(s: string): XmlElement {
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const checkText = (t: string, where: string) => {
    assert.ok(!/[<>]/.test(t) || !t.includes("<"), `raw '<' in ${where}`);
    assert.ok(!t.replace(entity, "").includes("&"), `bare '&' in ${where}: ${t}`);
  };
  const root: XmlElement = { name: "#document", attrs: {}, children: [], text: "" };
  const stack = [root];
  let i = 0;
  while (i < s.length) {
    const lt = s.indexOf("<", i);
    const text = s.slice(i, lt === -1 ? s.length : lt);
    checkText(text, "text");
    stack[stack.length - 1]!.text += text;
    if (lt === -1) break;
    const tag = /^<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>/.exec(s.slice(lt));
    assert.ok(tag, `malformed tag at ${lt}: ${s.slice(lt, lt + 60)}`);
    const [whole, close, name, attrText, selfClose] = tag as unknown as [string, string, string, string, string];
    if (close) {
      assert.equal(attrText.trim(), "", `attributes on closing tag </${name}>`);
      const open = stack.pop()!;
      assert.equal(open.name, name, `</${name}> closes <${open.name}>`);
    } else {
      const attrs: Record<string, string> = {};
      for (const m of attrText.matchAll(/([\w:.-]+)="([^"]*)"/g)) {
        assert.ok(!(m[1]! in attrs), `duplicate attribute ${m[1]} on <${name}>`);
        checkText(m[2]!, `attribute ${m[1]}`);
        attrs[m[1]!] = m[2]!;
      }
      const el: XmlElement = { name, attrs, children: [], text: "" };
      stack[stack.length - 1]!.children.push(el);
      if (!selfClose) stack.push(el);
    }
    i = lt + whole.length;
  }
  assert.equal(stack.length, 1, `unclosed <${stack[stack.length - 1]!.name}>`);
  assert.equal(root.children.length, 1, "exactly one root element");
  assert.equal(root.text.trim(), "", "no text outside the root");
  return root.children[0]!;
}

export function all(el: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  const out: XmlElement[] = [];
  const visit = (e: XmlElement) => {
    if (pred(e)) out.push(e);
    e.children.forEach(visit);
  };
  visit(el);
  return out;
}

export const unescapeXml = (s: string) =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
