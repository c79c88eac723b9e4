/**
 * @file SVG → PNG (and PNG → pixels) with resvg compiled to WebAssembly (`@resvg/resvg-wasm`):
 * no native binary, no system fonts needed — text uses DejaVu Sans from the `dejavu-fonts-ttf`
 * package. Node.js only (it reads the .wasm and font files from node_modules).
 */
import { requireNode } from "../base/env.ts";

type ResvgModule = typeof import("@resvg/resvg-wasm");

let ready: Promise<{ resvg: ResvgModule; font: Uint8Array }> | null = null;

/** Loads the wasm module and the font once per process. */
async function resvg(): Promise<{ resvg: ResvgModule; font: Uint8Array }> {
  requireNode("viz: PNG rendering", "the viz functions' SVG strings display in a browser as they are");
  ready ??= (async () => {
    const [mod, { readFile }, { createRequire }] = await Promise.all([import("@resvg/resvg-wasm"), import("node:fs/promises"), import("node:module")]);
    const require = createRequire(import.meta.url);
    const [wasm, font] = await Promise.all([
      readFile(require.resolve("@resvg/resvg-wasm/index_bg.wasm")),
      readFile(require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf")),
    ]);
    await mod.initWasm(wasm);
    return { resvg: mod, font: new Uint8Array(font) };
  })();
  try {
    return await ready;
  } catch (e) {
    ready = null;
    throw new Error(`svgToPng: cannot load resvg-wasm or its font (are the "@resvg/resvg-wasm" and "dejavu-fonts-ttf" packages installed?): ${(e as Error).message}`);
  }
}

export interface SvgToPngOptions {
  /** Zoom factor (default 2, for sharp text on high-density screens). */
  scale?: number;
  /** Background colour (default white; "transparent" keeps alpha). */
  background?: string;
}

/**
 * Renders an SVG string to PNG bytes.
 * @example await writeFile("curves.png", await tg.viz.svgToPng(await tg.viz.learningCurveSvg(history)));
 */
export async function svgToPng(svg: string, opts: SvgToPngOptions = {}): Promise<Uint8Array> {
  const { resvg: r, font } = await resvg();
  const renderer = new r.Resvg(svg, {
    font: { fontBuffers: [font], defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
    background: opts.background === "transparent" ? undefined : (opts.background ?? "white"),
    fitTo: { mode: "zoom", value: opts.scale ?? 2 },
  });
  try {
    const image = renderer.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } finally {
    renderer.free();
  }
}

/**
 * Decodes a PNG (or JPEG) image and resamples it to `width` × `height` grey levels in [0, 1]
 * (luminance; transparent pixels count as white paper), row-major.
 */
export async function imageToGray(bytes: Uint8Array, width: number, height: number): Promise<Float32Array> {
  const { resvg: r } = await resvg();
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!isPng && !isJpeg) throw new Error("imageToGray: not a PNG or JPEG file");
  const href = `data:image/${isPng ? "png" : "jpeg"};base64,${Buffer.from(bytes).toString("base64")}`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}"><image width="${width}" height="${height}" preserveAspectRatio="none" xlink:href="${href}"/></svg>`;
  const renderer = new r.Resvg(svg, { background: "white", fitTo: { mode: "original" } });
  try {
    const image = renderer.render();
    try {
      const px = image.pixels;
      if (image.width !== width || image.height !== height) throw new Error(`imageToGray: rendered ${image.width}×${image.height}, expected ${width}×${height}`);
      const out = new Float32Array(width * height);
      for (let i = 0; i < out.length; i++) out[i] = (0.299 * px[4 * i]! + 0.587 * px[4 * i + 1]! + 0.114 * px[4 * i + 2]!) / 255;
      return out;
    } finally {
      image.free();
    }
  } finally {
    renderer.free();
  }
}
