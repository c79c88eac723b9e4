/**
 * @file A self-contained HTML report of a training run: configuration, test metrics, learning
 * curves (inline SVG), the confusion matrix and sample predictions (images drawn as inline SVG).
 * One file with no external resources, to open in any browser or attach to a message.
 */
import { xml } from "./xml.ts";

export interface ReportSample {
  /** Grey levels in [0, 1], row-major, `width × height`. */
  pixels: ArrayLike<number>;
  width: number;
  height: number;
  label: number;
  predicted: number;
  /** The predicted class's probability. */
  confidence?: number;
}

export interface TrainingReport {
  title?: string;
  /** Settings shown as a table (model, optimizer, epochs, …). */
  config: Record<string, unknown>;
  /** Headline numbers (e.g. test loss and accuracy). */
  results: Record<string, number | string>;
  /** The learning-curve SVG (tg.viz.learningCurveSvg). */
  curvesSvg?: string;
  /** Per-epoch values (embedded as JSON too, so the report is machine-readable). */
  history?: Record<string, readonly (number | null)[]>;
  /** m[true][predicted] counts. */
  confusionMatrix?: number[][];
  classNames?: readonly string[];
  samples?: readonly ReportSample[];
  /** Text shown in a monospace block (e.g. the model summary). */
  modelText?: string;
}

function formatCell(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return xml(JSON.stringify(v));
  return xml(String(v));
}

/** An image as an inline SVG of grey rectangles (ink dark on white paper). */
export function pixelsToSvg(pixels: ArrayLike<number>, width: number, height: number, size = 56): string {
  const rects: string[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = Math.max(0, Math.min(1, pixels[y * width + x]!));
      if (v < 0.02) continue;
      const g = Math.round(255 * (1 - v));
      rects.push(`<rect x="${x}" y="${y}" width="1.05" height="1.05" fill="rgb(${g},${g},${g})"/>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${width} ${height}" shape-rendering="crispEdges"><rect width="${width}" height="${height}" fill="#fff"/>${rects.join("")}</svg>`;
}

function confusionTable(m: number[][], names: readonly string[]): string {
  const max = Math.max(1, ...m.flatMap((row, i) => row.filter((_, j) => j !== i)));
  const diagMax = Math.max(1, ...m.map((row, i) => row[i]!));
  const head = `<tr><th class="corner">true \\ predicted</th>${names.map((n) => `<th>${xml(n)}</th>`).join("")}<th>recall</th></tr>`;
  const rows = m.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cells = row.map((v, j) => {
      const alpha = i === j ? 0.15 + 0.6 * (v / diagMax) : v === 0 ? 0 : 0.15 + 0.7 * (v / max);
      const colour = i === j ? `rgba(46,139,87,${alpha.toFixed(3)})` : `rgba(220,53,69,${alpha.toFixed(3)})`;
      return `<td style="background:${colour}" title="true ${xml(names[i]!)}, predicted ${xml(names[j]!)}: ${v}">${v}</td>`;
    });
    const recall = total > 0 ? `${((100 * row[i]!) / total).toFixed(1)}%` : "—";
    return `<tr><th>${xml(names[i]!)}</th>${cells.join("")}<td class="recall">${recall}</td></tr>`;
  });
  return `<table class="confusion">${head}${rows.join("")}</table>`;
}

/**
 * The HTML text of a training report.
 * @example await writeFile("report.html", tg.viz.trainingReportHtml({ config, results, curvesSvg, confusionMatrix }));
 */
export function trainingReportHtml(r: TrainingReport): string {
  const title = r.title ?? "tensorgrad training report";
  const configRows = Object.entries(r.config)
    .map(([k, v]) => `<tr><th>${xml(k)}</th><td>${formatCell(v)}</td></tr>`)
    .join("");
  const results = Object.entries(r.results)
    .map(([k, v]) => `<div class="stat"><div class="value">${formatCell(v)}</div><div class="name">${xml(k)}</div></div>`)
    .join("");
  const n = r.confusionMatrix?.length ?? 0;
  const names = r.classNames ?? Array.from({ length: n }, (_, i) => String(i));
  const samples = (r.samples ?? [])
    .map((s) => {
      const ok = s.label === s.predicted;
      const conf = s.confidence === undefined ? "" : ` (${(100 * s.confidence).toFixed(0)}%)`;
      const label = names[s.label] ?? String(s.label);
      const pred = names[s.predicted] ?? String(s.predicted);
      return `<figure class="${ok ? "ok" : "wrong"}">${pixelsToSvg(s.pixels, s.width, s.height)}<figcaption>${xml(pred)}${conf}${ok ? "" : `<br><small>true ${xml(label)}</small>`}</figcaption></figure>`;
    })
    .join("");
  const data = JSON.stringify({ config: r.config, results: r.results, history: r.history ?? null, confusionMatrix: r.confusionMatrix ?? null }).replace(/</g, "\\u003c");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${xml(title)}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.3rem; }
.stats { display: flex; gap: 1rem; flex-wrap: wrap; } .stat { background: #f5f7fa; border-radius: 8px; padding: 0.8rem 1.2rem; min-width: 8rem; }
.stat .value { font-size: 1.5rem; font-weight: 600; } .stat .name { color: #666; font-size: 0.85rem; }
table { border-collapse: collapse; } th, td { padding: 0.25rem 0.6rem; text-align: left; } table.config th { color: #555; font-weight: 500; }
table.config tr:nth-child(odd) { background: #fafafa; }
table.confusion td, table.confusion th { text-align: center; min-width: 2.4rem; border: 1px solid #eee; font-variant-numeric: tabular-nums; }
table.confusion th.corner { font-size: 0.75rem; color: #666; } td.recall { background: #f5f7fa; }
.curves svg { max-width: 100%; height: auto; }
.samples { display: flex; flex-wrap: wrap; gap: 0.5rem; } figure { margin: 0; text-align: center; font-size: 0.8rem; border: 2px solid; border-radius: 4px; padding: 2px; }
figure.ok { border-color: #2e8b57; } figure.wrong { border-color: #dc3545; background: #fff0f1; } figcaption { margin-top: 2px; }
pre { background: #f5f7fa; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
</style>
</head>
<body>
<h1>${xml(title)}</h1>
<p>Written ${xml(new Date().toISOString())} by tensorgrad.</p>
<h2>Results</h2>
<div class="stats">${results}</div>
${r.curvesSvg ? `<h2>Learning curves</h2>\n<div class="curves">${r.curvesSvg}</div>` : ""}
${r.confusionMatrix ? `<h2>Confusion matrix (test split)</h2>\n${confusionTable(r.confusionMatrix, names)}` : ""}
${samples ? `<h2>Sample predictions (test split)</h2>\n<p>Green: correct; red: wrong (with the true class). The percentage is the model's probability for its prediction.</p>\n<div class="samples">${samples}</div>` : ""}
<h2>Configuration</h2>
<table class="config">${configRows}</table>
${r.modelText ? `<h2>Model</h2>\n<pre>${xml(r.modelText)}</pre>` : ""}
<script type="application/json" id="tensorgrad-report">${data}</script>
</body>
</html>
`;
}
