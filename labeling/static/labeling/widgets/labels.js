// Workspace widget of single-label kinds (verifiability, stance, every custom kind):
// one button per label, digits 1–9 pick, a double click submits.

import { el } from "../api.js";

export function create(ws) {
  let label = null;
  const labels = () => ws.state.task.schema.labels || [];
  const pick = (value) => { label = value; ws.saveDraft(); ws.render(); };
  return {
    textClass: "",
    load(own, draft) {
      label = own ? own.label : null;
      if (draft && draft.label !== undefined) label = draft.label;
    },
    draft: () => ({ label }),
    value: () => ({ label }),
    extras: () => ({}), // more fields of the PUT body (triples: from_suggestion)
    problem: () => (label ? null : "Pick a label first (press its number)."),
    marks: () => [],
    body() {
      return el("div", { class: "lb-labels", role: "group", "aria-label": "Labels" },
        labels().map((name, i) => el("button", {
          type: "button",
          class: "lb-label" + (label === name ? " selected" : ""),
          "data-label": name,
          "aria-pressed": label === name ? "true" : "false",
          onclick: () => pick(name),
          ondblclick: () => { label = name; ws.submit(); },
        }, i < 9 ? el("kbd", {}, i + 1) : null, name.replaceAll("_", " "))),
      );
    },
    onKey(e) {
      if (!/^[1-9]$/.test(e.key)) return false;
      e.preventDefault();
      const i = Number(e.key) - 1;
      if (i < labels().length) pick(labels()[i]);
      return true;
    },
    onMouseUp() {},
    afterRender() {},
  };
}

/** Adjudication page: labels are shown by the server; nothing to draw. */
export function showAdjudication() {}

/** Adjudication page: a label draws nothing on the text. */
export function goldMarks() {
  return [];
}
