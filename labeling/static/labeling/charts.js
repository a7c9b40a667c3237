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

/** Red (low) → amber → green (high) for agreement values in [-1, 1]. */
export function agreementColor(v) {
  if (v === null || v === undefined) return "#e5e7eb";
  const t = Math.max(0, Math.min(1, (v + 0.2) / 1.2));
  const hue = 5 + t * 130; // 5 = red, 135 = green
  return `hsl(${hue}, 62%, ${72 - t * 28}%)`;
}

function blue(t) {
  return `hsl(205, 70%, ${96 - t * 58}%)`;
}

/** Alpha per run with its 95% interval; dashed lines at the 0.667 and 0.8 thresholds. */
export function alphaOverTime(container, points) {
  const pts = points.filter((p) => p.alpha !== null && p.alpha !== undefined);
  if (!pts.length) return none(container, "No finished run with a defined alpha yet.");
  const W = Math.max(360, container.clientWidth || 560), H = 280, L = 44, R = 16, T = 14, B = 40;
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
    s.append(svg("text", { x: W - R, y: y(v) - 4, "text-anchor": "end", "font-size": 10, opacity: 0.7 }, name));
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
  const step = Math.max(1, Math.ceil(pts.length / 8));
  pts.forEach((p, i) => {
    if (i % step && i !== pts.length - 1) return;
    const d = new Date(p.created_at);
    s.append(svg("text", { x: x(i), y: H - B + 16, "text-anchor": "middle" }, `#${p.id}`));
    s.append(svg("text", { x: x(i), y: H - B + 30, "text-anchor": "middle", opacity: 0.6, "font-size": 10 }, d.toLocaleDateString(undefined, { month: "short", day: "numeric" })));
  });
}

/**
 * A square heatmap. `cell(i, j)` returns {value, text, title} or null; `color(value)`
 * gives the fill. Used for the pairwise annotator matrix and the confusion matrix.
 */
export function heatmap(container, { rows, cols, cell, color, label, rowTitle, colTitle }) {
  if (!rows.length) return none(container, "Not enough data yet.");
  const size = Math.max(30, Math.min(56, Math.floor(420 / Math.max(rows.length, cols.length))));
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
      g.append(svg("rect", { x: labelW + j * size + 1, y: labelH + i * size + 1, width: size - 2, height: size - 2, rx: 3, fill: c ? color(c.value) : "transparent", stroke: c ? "none" : "#e5e7eb" }));
      if (c && c.text) {
        g.append(svg("text", { x: labelW + j * size + size / 2, y: labelH + i * size + size / 2 + 4, "text-anchor": "middle", "font-size": size > 40 ? 11 : 9, style: "fill:#111" }, c.text));
      }
      if (c && c.title) g.append(svg("title", {}, c.title));
      s.append(g);
    });
  });
  if (rowTitle) s.append(svg("text", { x: 2, y: H - 6, opacity: 0.6, "font-size": 10 }, `rows: ${rowTitle} · columns: ${colTitle}`));
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
      if (i === j) return { value: 1, text: "", title: names[i] };
      const p = grid[i][j];
      if (!p) return null;
      const v = p[metric];
      return { value: v, text: fmt(v), title: `${names[i]} × ${names[j]}: ${metric} ${fmt(v, 3)} on ${p.n_shared} shared items` };
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
    s.append(svg("text", { x: x(v), y: H - 6, "text-anchor": "middle", opacity: 0.6 }, v.toFixed(1)));
  }
  items.forEach((d, i) => {
    const y = T + i * rowH;
    s.append(svg("text", { x: L - 8, y: y + rowH / 2 + 4, "text-anchor": "end" }, d.label));
    if (d.value === null || d.value === undefined) {
      s.append(svg("text", { x: x(0) + 4, y: y + rowH / 2 + 4, opacity: 0.6 }, "undefined"));
      return;
    }
    const a = x(Math.min(0, d.value)), b = x(Math.max(0, d.value));
    const r = svg("rect", { x: a, y: y + 5, width: Math.max(2, b - a), height: rowH - 10, rx: 3, fill: agreementColor(d.value), class: "bar" });
    r.append(svg("title", {}, `${d.label}: ${fmt(d.value, 3)}`));
    s.append(r);
    s.append(svg("text", { x: b + 6, y: y + rowH / 2 + 4 }, fmt(d.value)));
  });
}
