// Small SVG charts, no dependencies: alpha over time with intervals, heatmaps, bars.

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function root(container, width, height, label) {
  container.replaceChildren();
  const s = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": label });
  container.append(s);
  return s;
}

function none(container, text) {
  const p = document.createElement("div");
  p.className = "lb-none";
  p.textContent = text;
  container.replaceChildren(p);
}

export const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? "—" : Number(v).toFixed(d));

// ------------------------------------------------------------ shared scale and legend
//
// Every figure that colours agreement values uses one scale, anchored at the thresholds
// leads read alpha by (Krippendorff 2004): below 0.667 unreliable, 0.667–0.8 tentative,
// 0.8 and above reliable. Colours interpolate only between neighbouring anchors, so 0.70
// and 1.00 never look alike, and cell text is black or white, whichever has the higher
// contrast (at least 4.5:1 on every colour of the scale).

export const ALPHA_ANCHORS = [
  [0, [220, 38, 38]], // red-600: no better than chance (and below)
  [0.667, [251, 191, 36]], // amber-400: the tentative threshold
  [0.8, [134, 239, 172]], // green-300: the reliable threshold
  [1, [21, 128, 61]], // green-700: perfect agreement
];
export const ALPHA_THRESHOLDS = [0, 0.667, 0.8, 1];
export const ALPHA_BANDS = [
  [0, 0.667, "unreliable"],
  [0.667, 0.8, "tentative"],
  [0.8, 1, "reliable"],
];
const NO_VALUE = "#e5e7eb";

function rgb([r, g, b]) {
  return `rgb(${Math.round(r)}, ${Math.round(g)}, ${Math.round(b)})`;
}

function alphaRgb(v) {
  const x = Math.max(0, Math.min(1, v));
  for (let i = 1; i < ALPHA_ANCHORS.length; i++) {
    const [hi, c1] = ALPHA_ANCHORS[i];
    const [lo, c0] = ALPHA_ANCHORS[i - 1];
    if (x <= hi) {
      const t = (x - lo) / (hi - lo);
      return c0.map((c, k) => c + t * (c1[k] - c));
    }
  }
  return ALPHA_ANCHORS[ALPHA_ANCHORS.length - 1][1];
}

/** The fill of an agreement value (alpha, kappa, …) on the shared threshold scale. */
export function agreementColor(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return NO_VALUE;
  return rgb(alphaRgb(v));
}

function luminance(color) {
  const m = color.match(/\d+(\.\d+)?/g);
  if (!m) return 1;
  const [r, g, b] = m.slice(0, 3).map((c) => {
    const s = Number(c) / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Black or white, whichever contrasts more with the rgb() or hex ``background``. */
export function textColor(background) {
  const hex = background.match(/^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i);
  const L = luminance(hex ? `${parseInt(hex[1], 16)},${parseInt(hex[2], 16)},${parseInt(hex[3], 16)}` : background);
  return (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? "#000" : "#fff";
}

/** A horizontal legend of the shared scale with its thresholds, under a figure. */
export function alphaLegend(container, title = "α") {
  const W = 440, H = 50, L = 14, R = 14, T = 16;
  const box = document.createElement("div");
  box.className = "lb-legend-scale";
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": `Colour scale of ${title}: below 0.667 unreliable, 0.667 to 0.8 tentative, 0.8 and above reliable` });
  const grad = svg("linearGradient", { id: `lb-alpha-grad-${Math.random().toString(36).slice(2)}` });
  for (const [v, c] of ALPHA_ANCHORS) grad.append(svg("stop", { offset: `${v * 100}%`, "stop-color": rgb(c) }));
  const defs = svg("defs");
  defs.append(grad);
  s.append(defs);
  const x = (v) => L + v * (W - L - R);
  for (const [lo, hi, name] of ALPHA_BANDS) {
    s.append(svg("text", { x: (x(lo) + x(hi)) / 2, y: T - 5, "text-anchor": "middle", class: "lb-legend-text band" }, name));
  }
  s.append(svg("rect", { x: L, y: T, width: W - L - R, height: 14, rx: 2, fill: `url(#${grad.id})` }));
  for (const v of ALPHA_THRESHOLDS) {
    s.append(svg("line", { x1: x(v), x2: x(v), y1: T, y2: T + 20, stroke: "#111", "stroke-width": 1 }));
    s.append(svg("text", { x: x(v), y: T + 32, "text-anchor": v === 0 ? "start" : v === 1 ? "end" : "middle", class: "lb-legend-text tick" }, String(v)));
  }
  box.append(s);
  container.append(box);
  return box;
}

/**
 * One-line definitions of the dashboard's figures, shown under each (elements with
 * ``data-definition="key"``); agreement's own figures add theirs here.
 */
export const DEFINITIONS = {
  "alpha-over-runs": "Krippendorff's α of each run (1 = perfect agreement, 0 = no better than chance), with its 95% bootstrap interval; dashed lines mark the 0.667 and 0.8 thresholds.",
  pairwise: "α of each pair of annotators on the items both labelled; the number under it is how many items they share.",
  confusion: "How often one annotator's value meets another's on the same item: counts on the diagonal agree, off it disagree.",
  "per-label": "Agreement on each value alone (that value against all others), as α on the same scale.",
};

/** Fill every ``[data-definition]`` element under ``root`` from DEFINITIONS. */
export function defineFigures(root = document) {
  root.querySelectorAll("[data-definition]").forEach((el) => {
    const text = DEFINITIONS[el.dataset.definition];
    if (text) el.textContent = text;
  });
}

/** Counts: white (none) to dark blue (the most), as rgb() so textColor can read it. */
function blue(t) {
  const lo = [239, 246, 255], hi = [30, 64, 175];
  return rgb(lo.map((c, k) => c + Math.max(0, Math.min(1, t)) * (hi[k] - c)));
}

/** Alpha per run with its 95% interval; dashed lines at the 0.667 and 0.8 thresholds. */
export function alphaOverTime(container, points) {
  const pts = points.filter((p) => p.alpha !== null && p.alpha !== undefined);
  if (!pts.length) return none(container, "No finished run with a defined alpha yet.");
  const W = Math.max(360, container.clientWidth || 560), H = 296, L = 44, R = 36, T = 14, B = 56;
  const lows = pts.map((p) => (p.alpha_ci95 ? p.alpha_ci95[0] : p.alpha));
  const yMin = Math.min(0, Math.floor(Math.min(...lows) * 10) / 10);
  const yMax = 1;
  const s = root(container, W, H, "Krippendorff's alpha over runs");
  const x = (i) => L + (pts.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (pts.length - 1));
  const y = (v) => T + ((yMax - v) * (H - T - B)) / (yMax - yMin);
  for (let v = Math.ceil(yMin / 0.2 - 1e-9) * 0.2; v <= yMax + 1e-9; v += 0.2) {
    s.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    s.append(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, v.toFixed(1)));
  }
  for (const [v, name] of [[0.8, "0.80 reliable"], [0.667, "0.667 tentative"]]) {
    s.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: v === 0.8 ? "#15803d" : "#d97706", "stroke-dasharray": "5 4", "stroke-width": 1 }));
    s.append(svg("text", { x: W - R, y: y(v) - 4, "text-anchor": "end", "font-size": 10 }, name));
  }
  // Interval band, then whiskers, the line and the points.
  const withCi = pts.map((p, i) => [i, p]).filter(([, p]) => p.alpha_ci95);
  if (withCi.length > 1) {
    const upper = withCi.map(([i, p]) => `${x(i)},${y(p.alpha_ci95[1])}`);
    const lower = withCi.slice().reverse().map(([i, p]) => `${x(i)},${y(p.alpha_ci95[0])}`);
    s.append(svg("polygon", { points: [...upper, ...lower].join(" "), fill: "rgba(65,118,144,0.15)", stroke: "none" }));
  }
  for (const [i, p] of withCi) {
    const [lo, hi] = p.alpha_ci95;
    s.append(svg("line", { x1: x(i), x2: x(i), y1: y(lo), y2: y(hi), stroke: "#417690", "stroke-width": 2, class: "ci" }));
    for (const v of [lo, hi]) s.append(svg("line", { x1: x(i) - 5, x2: x(i) + 5, y1: y(v), y2: y(v), stroke: "#417690", "stroke-width": 2 }));
  }
  if (pts.length > 1) {
    s.append(svg("polyline", { points: pts.map((p, i) => `${x(i)},${y(p.alpha)}`).join(" "), fill: "none", stroke: "#417690", "stroke-width": 2 }));
  }
  pts.forEach((p, i) => {
    const c = svg("circle", { cx: x(i), cy: y(p.alpha), r: 5, fill: "#417690", stroke: "#fff", "stroke-width": 2, class: "point" });
    const ci = p.alpha_ci95 ? ` [${fmt(p.alpha_ci95[0])}, ${fmt(p.alpha_ci95[1])}]` : "";
    c.append(svg("title", {}, `run #${p.id}: α = ${fmt(p.alpha, 3)}${ci}, ${p.n_items ?? "?"} items, ${new Date(p.created_at).toLocaleString()}`));
    s.append(c);
  });
  // x axis: the run's number and how many annotations it included (not the date, which
  // repeats when runs are minutes apart); the last label stays inside the figure.
  const step = Math.max(1, Math.ceil(pts.length / 8));
  pts.forEach((p, i) => {
    if (i % step && i !== pts.length - 1) return;
    if (i !== pts.length - 1 && pts.length - 1 - i < step / 2) return; // too close to the last
    const anchor = pts.length > 1 && i === pts.length - 1 ? "end" : pts.length > 1 && i === 0 ? "start" : "middle";
    const tx = pts.length > 1 && i === pts.length - 1 ? x(i) + 6 : pts.length > 1 && i === 0 ? x(i) - 6 : x(i);
    s.append(svg("text", { x: tx, y: H - B + 16, "text-anchor": anchor, class: "run-label" }, `run #${p.id}`));
    s.append(svg("text", { x: tx, y: H - B + 30, "text-anchor": anchor, "font-size": 10, class: "run-count" }, p.n_annotations == null ? "" : `${p.n_annotations} ann.`));
  });
  s.append(svg("text", { x: L + (W - L - R) / 2, y: H - 4, "text-anchor": "middle", "font-size": 10 }, "run number · annotations included"));
}

/**
 * A square heatmap. `cell(i, j)` returns {value, text, title} or null; `color(value)`
 * gives the fill. Used for the pairwise annotator matrix and the confusion matrix.
 */
export function heatmap(container, { rows, cols, cell, color, label, rowTitle, colTitle }) {
  if (!rows.length) return none(container, "Not enough data yet.");
  const size = Math.max(36, Math.min(60, Math.floor(420 / Math.max(rows.length, cols.length))));
  const labelW = Math.min(140, 12 + Math.max(...rows.map((r) => r.length)) * 7);
  const labelH = Math.min(110, 16 + Math.max(...cols.map((c) => c.length)) * 5);
  const W = labelW + cols.length * size + Math.round(labelH * 0.8) + 10, H = labelH + rows.length * size + 24;
  const s = root(container, W, H, label);
  cols.forEach((c, j) => {
    const tx = labelW + j * size + size / 2, ty = labelH - 6;
    s.append(svg("text", { x: tx, y: ty, transform: `rotate(-35 ${tx} ${ty})`, "text-anchor": "start" }, c));
  });
  rows.forEach((r, i) => {
    s.append(svg("text", { x: labelW - 6, y: labelH + i * size + size / 2 + 4, "text-anchor": "end" }, r));
    cols.forEach((_, j) => {
      const c = cell(i, j);
      const g = svg("g", { class: "cell" });
      g.append(svg("rect", { x: labelW + j * size + 1, y: labelH + i * size + 1, width: size - 2, height: size - 2, rx: 3, fill: c ? c.fill || color(c.value) : "transparent", stroke: c ? "none" : "#9ca3af" }));
      if (c && c.text) {
        const fill = textColor(c.fill || color(c.value));
        const cx = labelW + j * size + size / 2, cy = labelH + i * size + size / 2;
        g.append(svg("text", { x: cx, y: c.sub ? cy - 1 : cy + 4, "text-anchor": "middle", "font-size": size > 40 ? 12 : 10, "font-weight": 700, style: `fill:${fill}` }, c.text));
        if (c.sub) g.append(svg("text", { x: cx, y: cy + 12, "text-anchor": "middle", "font-size": size > 40 ? 10 : 8, style: `fill:${fill}`, class: "cell-sub" }, c.sub));
      }
      if (c && c.title) g.append(svg("title", {}, c.title));
      s.append(g);
    });
  });
  if (rowTitle) s.append(svg("text", { x: 2, y: H - 6, "font-size": 10 }, `rows: ${rowTitle} · columns: ${colTitle}`));
}

export function pairwiseHeatmap(container, annotators, pairs, metric = "alpha") {
  const used = new Set(pairs.flatMap((p) => [p.a, p.b]));
  const people = annotators.filter((a) => used.has(a.id));
  if (people.length < 2) return none(container, "Needs two annotators who labelled the same items.");
  const index = new Map(people.map((a, i) => [a.id, i]));
  const grid = people.map(() => people.map(() => null));
  for (const p of pairs) {
    const i = index.get(p.a), j = index.get(p.b);
    if (i === undefined || j === undefined) continue;
    grid[i][j] = grid[j][i] = p;
  }
  const names = people.map((a) => a.username || `#${a.id}`);
  heatmap(container, {
    rows: names,
    cols: names,
    label: "Pairwise agreement heatmap",
    color: agreementColor,
    cell: (i, j) => {
      // The diagonal is not a measurement: neutral grey, not the colour of α = 1.
      if (i === j) return { value: null, fill: "#f3f4f6", text: "—", title: `${names[i]} (same annotator)` };
      const p = grid[i][j];
      if (!p) return null;
      const v = p[metric];
      return { value: v, text: fmt(v), sub: `n=${p.n_shared}`, title: `${names[i]} × ${names[j]}: ${metric} ${fmt(v, 3)} on ${p.n_shared} shared items` };
    },
  });
}

export function confusionHeatmap(container, coincidence, label = "Coincidence matrix") {
  if (!coincidence || !coincidence.labels || !coincidence.labels.length) return none(container, "Not enough data yet.");
  const m = coincidence.matrix.map((row) => row.map((v) => v || 0));
  const max = Math.max(1e-9, ...m.flat());
  const names = coincidence.labels.map((l) => l.replaceAll("_", " "));
  heatmap(container, {
    rows: names,
    cols: names,
    label,
    color: (v) => blue(v / max),
    cell: (i, j) => ({ value: m[i][j], text: m[i][j] >= 10 ? Math.round(m[i][j]) : fmt(m[i][j], 1).replace(/\.0$/, ""), title: `${names[i]} with ${names[j]}: ${fmt(m[i][j], 1)} pairable values` }),
    rowTitle: "one annotator",
    colTitle: "another annotator",
  });
}

/** Horizontal bars for values in [-1, 1], zero marked. */
export function bars(container, items, label) {
  if (!items.length) return none(container, "Not enough data yet.");
  const W = Math.max(320, container.clientWidth || 520), rowH = 30, L = Math.min(160, 16 + Math.max(...items.map((d) => d.label.length)) * 7), R = 50, T = 8;
  const H = T + items.length * rowH + 24;
  const s = root(container, W, H, label);
  const lo = Math.min(0, ...items.map((d) => d.value ?? 0));
  const x = (v) => L + ((v - lo) * (W - L - R)) / (1 - lo);
  for (const v of [lo, 0, 0.5, 1]) {
    if (v < lo) continue;
    s.append(svg("line", { x1: x(v), x2: x(v), y1: T, y2: H - 20, class: "grid" }));
    s.append(svg("text", { x: x(v), y: H - 6, "text-anchor": "middle" }, v.toFixed(1)));
  }
  items.forEach((d, i) => {
    const y = T + i * rowH;
    s.append(svg("text", { x: L - 8, y: y + rowH / 2 + 4, "text-anchor": "end" }, d.label));
    if (d.value === null || d.value === undefined) {
      s.append(svg("text", { x: x(0) + 4, y: y + rowH / 2 + 4 }, "undefined"));
      return;
    }
    const a = x(Math.min(0, d.value)), b = x(Math.max(0, d.value));
    const r = svg("rect", { x: a, y: y + 5, width: Math.max(2, b - a), height: rowH - 10, rx: 3, fill: agreementColor(d.value), class: "bar" });
    r.append(svg("title", {}, `${d.label}: ${fmt(d.value, 3)}`));
    s.append(r);
    s.append(svg("text", { x: b + 6, y: y + rowH / 2 + 4 }, fmt(d.value)));
  });
}
