// Model predictions of the task (task.predictions, imported by a lead), listed beside the
// rule-based suggestions: read-only hints, best score first. Offsets are those of the
// payload (the workspace asks for UTF-16), so spans read through spans.js like the rest.
import { el } from "./api.js";
import { ROLES, spanText } from "./spans.js";

function describe(value, sentences) {
  if (value && typeof value.label === "string") return value.label;
  if (value && Array.isArray(value.attributions)) {
    if (!value.attributions.length) return "no attribution";
    return value.attributions
      .map((t) => ROLES.map((role) => `${role}: “${t[role] ? spanText(sentences, t[role]) : ""}”`).join(" "))
      .join(" · ");
  }
  return JSON.stringify(value);
}

export function predictionList(task, sentences) {
  const list = (task && task.predictions) || [];
  if (!list.length) return null;
  return el("div", { class: "lb-suggestions lb-predictions", "data-testid": "predictions" },
    el("h3", {}, `Model predictions (${list.length}) `,
      el("span", { class: "lb-muted lb-small" }, "imported by your project's leads")),
    el("ol", {}, list.map((p) => el("li", { "data-testid": "prediction" },
      el("strong", {}, p.model), ": ", describe(p.value, sentences),
      p.score === null || p.score === undefined ? null : el("span", { class: "lb-muted lb-small" }, ` (score ${Number(p.score).toFixed(2)})`)))));
}
