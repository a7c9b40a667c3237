// Agreement dashboard: KPIs and charts from the latest run; "recompute now" via the REST API.

import { api, ApiError } from "./api.js";
import { alphaLegend, alphaOverTime, bars, confusionHeatmap, defineFigures, fmt, pairwiseHeatmap } from "./charts.js";

const data = JSON.parse(document.getElementById("lb-dashboard").textContent);
const r = data.result || {};
const cfg = data.config || {}; // the kind's configuration, from the kind registry
const at = (path) => path.reduce((v, k) => (v == null ? v : v[k]), r);
const $ = (id) => document.getElementById(id);

function kpi(k, v, s) {
  const d = document.createElement("div");
  d.className = "lb-kpi";
  d.innerHTML = '<div class="k"></div><div class="v"></div><div class="s"></div>';
  d.querySelector(".k").textContent = k;
  d.querySelector(".v").textContent = v;
  d.querySelector(".s").textContent = s || "";
  return d;
}

if ($("lb-kpis")) {
  const ci = r.alpha_ci95 ? `95% CI [${fmt(r.alpha_ci95[0])}, ${fmt(r.alpha_ci95[1])}]` : "no interval";
  const alphaName = cfg.alpha_name || `α (${r.level || "nominal"})`;
  const cards = [
    kpi(alphaName, fmt(r.alpha, 3), ci),
    kpi("% agreement", r.percent_agreement == null ? "—" : `${(100 * r.percent_agreement).toFixed(1)}%`, "pairwise, pairable items"),
    kpi("items", r.n_items ?? "—", `${r.n_pairable_items ?? "?"} with 2+ answers`),
    kpi("annotations", r.n_annotations ?? "—", `${r.n_annotators ?? "?"} annotators`),
    kpi(r.cohen_kappa_method === "cohen" ? "Cohen κ" : "mean pairwise κ", fmt(r.cohen_kappa), `Fleiss κ ${fmt(r.fleiss_kappa)}`),
    kpi("Gwet AC1", fmt(r.gwet_ac1), `Scott π ${fmt(r.scott_pi)}`),
  ];
  for (const k of cfg.extra_kpis || []) {
    const ci = k.ci ? at(k.ci) : null;
    const sub = ci ? `CI [${fmt(ci[0])}, ${fmt(ci[1])}]` : k.sub ? `${k.sub_label} ${fmt(at(k.sub))}` : "";
    cards.push(kpi(k.label, fmt(at(k.value), k.digits || 2), sub));
  }
  $("lb-kpis").replaceChildren(...cards);
  alphaOverTime($("chart-alpha"), data.history);
  pairwiseHeatmap($("chart-pairs"), r.annotators || [], r.pairwise || []);
  if ($("chart-pairs").querySelector("svg")) alphaLegend($("chart-pairs"));
  if (cfg.confusion) {
    $("confusion-title").textContent = cfg.confusion.title;
    confusionHeatmap($("chart-confusion"), r[cfg.confusion.key], cfg.confusion.title);
  } else {
    confusionHeatmap($("chart-confusion"), r.coincidence);
  }
  const per = r.per_label || {};
  bars($("chart-labels"), Object.entries(per).map(([label, value]) => ({ label: label.replaceAll("_", " "), value })), "Agreement per label");
  if ($("chart-labels").querySelector("svg")) alphaLegend($("chart-labels"));
  defineFigures();
}

// ------------------------------------------------------------------- recompute now

const button = $("lb-recompute");
const bar = $("lb-run-progress");
const status = $("lb-run-status");

function message(cls, text) {
  const box = document.createElement("div");
  box.className = `lb-msg ${cls}`;
  box.textContent = text;
  $("lb-run-message").replaceChildren(box);
}

async function follow(runId) {
  button.disabled = true;
  bar.hidden = false;
  for (;;) {
    let run;
    try {
      run = await api("GET", `${data.api}agreement-runs/${runId}/`);
    } catch (err) {
      message("error", `Could not read run #${runId}: ${err.message}`);
      button.disabled = false;
      return;
    }
    bar.firstElementChild.style.width = `${Math.round(100 * (run.progress || 0))}%`;
    status.textContent = `Run #${run.id}: ${run.status} ${run.status === "running" ? Math.round(100 * run.progress) + "%" : ""}`;
    if (run.status === "done") {
      bar.firstElementChild.style.width = "100%";
      status.textContent = `Run #${run.id} done; refreshing…`;
      window.location.reload();
      return;
    }
    if (run.status === "failed") {
      message("error", `Run #${run.id} failed: ${run.error || "unknown error"}`);
      button.disabled = false;
      bar.hidden = true;
      return;
    }
    await new Promise((ok) => setTimeout(ok, 800));
  }
}

button.addEventListener("click", async () => {
  button.disabled = true;
  status.textContent = "Starting…";
  try {
    const run = await api("POST", `${data.api}projects/${data.projectId}/agreement-runs/`, { kind: data.kind });
    await follow(run.id);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    message("error", `Could not start a run: ${err.body.detail || err.message}`);
    status.textContent = "";
    button.disabled = false;
  }
});

if (data.pendingRunId) follow(data.pendingRunId);
