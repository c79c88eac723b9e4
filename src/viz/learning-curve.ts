/**
 * @file Learning curves (the lectures' loss and accuracy per epoch, training vs validation) as a
 * Vega-Lite chart rendered to SVG by Vega, in Node or a browser. The SVG carries its numbers twice:
 * as each point's aria-label (Vega's) and as JSON in a `<metadata id="tensorgrad-history">` element.
 */

/** Per-epoch values by name, as `history.history` holds them (`loss`, `val_loss`, `accuracy`, …). */
export type HistoryValues = Record<string, readonly (number | null)[]>;

export interface LearningCurveOptions {
  /** Chart title (default "Learning curves"). */
  title?: string;
  /** Width and height of each panel in px (default 320 × 220). */
  width?: number;
  height?: number;
  /** The first epoch's number on the x axis (default 1). */
  firstEpoch?: number;
}

/** The quantities to plot: every logged name without its `val_` prefix, loss first (learning_rate left out). */
function panelsOf(history: HistoryValues): string[] {
  const names = new Set<string>();
  for (const k of Object.keys(history)) {
    const base = k.startsWith("val_") ? k.slice(4) : k;
    if (base !== "learning_rate" && base !== "lr") names.add(base);
  }
  return [...names].sort((a, b) => (a === "loss" ? -1 : b === "loss" ? 1 : 0));
}

const isRate = (name: string) => /acc/i.test(name);

/**
 * A Vega-Lite spec with one panel per quantity (loss, accuracy, …), training and validation as
 * two coloured lines over the epochs.
 */
export function learningCurveSpec(history: HistoryValues | { history: HistoryValues }, opts: LearningCurveOptions = {}): Record<string, unknown> {
  const h: HistoryValues = "history" in history && typeof history.history === "object" && !Array.isArray(history.history) ? (history.history as HistoryValues) : (history as HistoryValues);
  const first = opts.firstEpoch ?? 1;
  const rows: { epoch: number; quantity: string; split: string; value: number }[] = [];
  const panels = panelsOf(h);
  for (const q of panels) {
    for (const [key, split] of [[q, "training"], [`val_${q}`, "validation"]] as const) {
      (h[key] ?? []).forEach((v, i) => {
        if (v !== null && Number.isFinite(v)) rows.push({ epoch: first + i, quantity: q, split, value: v });
      });
    }
  }
  const width = opts.width ?? 320;
  const height = opts.height ?? 220;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: opts.title ?? "Learning curves", fontSize: 15 },
    data: { values: rows },
    config: { font: "DejaVu Sans, Helvetica, Arial, sans-serif", view: { stroke: "#ddd" } },
    background: "white",
    hconcat: panels.map((q) => ({
      title: q,
      width,
      height,
      transform: [{ filter: { field: "quantity", equal: q } }],
      mark: { type: "line", point: true, strokeWidth: 2 },
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1, format: "d" }, scale: { nice: false } },
        y: { field: "value", type: "quantitative", title: q, scale: { zero: false }, axis: isRate(q) ? { format: ".1%" } : {} },
        color: {
          field: "split",
          type: "nominal",
          title: null,
          scale: { domain: ["training", "validation"], range: ["#1f77b4", "#ff7f0e"] },
          legend: { orient: "bottom" },
        },
        tooltip: [{ field: "epoch" }, { field: "split" }, { field: "value", format: ".4f" }],
      },
    })),
  };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Renders the learning curves to a standalone SVG string (Vega-Lite → Vega → SVG; no browser or
 * canvas needed).
 * @example await writeFile("curves.svg", await tg.viz.learningCurveSvg(history));
 */
export async function learningCurveSvg(history: HistoryValues | { history: HistoryValues }, opts: LearningCurveOptions = {}): Promise<string> {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const spec = learningCurveSpec(history, opts);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  const h = (spec.data as { values: unknown[] }).values;
  const metadata = `<metadata id="tensorgrad-history">${escapeXml(JSON.stringify(h))}</metadata>`;
  return svg.replace(/^(<svg[^>]*>)/, `$1<title>${escapeXml(opts.title ?? "Learning curves")}</title>${metadata}`);
}
