// Workspace widget of single-label kinds (verifiability, stance, every custom kind):
// one button per label, digits 1–9 pick. One key labels and advances, unless the
// annotator turned on "confirm with Enter". A stance group (every target of the sentence,
// ``task.group``) shows one row per target: a digit labels the focused target and moves
// to the next; the last one submits the whole sentence.

import { el } from "../api.js";

export function create(ws) {
  const task = ws.state.task;
  const members = task.group && task.group.length ? task.group : [{ id: task.id, target: task.target }];
  const grouped = members.length > 1;
  let picked = members.map(() => null); // label per member
  let focus = 0;
  const labels = () => task.schema.labels || [];

  async function pick(i, value, { viaKey }) {
    picked[i] = value;
    ws.saveDraft();
    const next = picked.findIndex((p) => p === null);
    if (next >= 0) {
      focus = next;
      ws.clearMessage();
      ws.render();
      return;
    }
    focus = i;
    ws.clearMessage();
    if (!ws.confirmWithEnter && !ws.state.editing) {
      if (viaKey) await ws.submitNow();
      else ws.submit();
      return;
    }
    ws.render();
  }

  function row(member, i) {
    return el("div", { class: "lb-label-row" + (grouped && i === focus ? " focus" : ""), "data-member": member.id },
      grouped ? el("div", { class: "lb-row-target" }, el("span", { class: "lb-target", "data-testid": "target" }, member.target)) : null,
      el("div", { class: "lb-labels", role: "group", "aria-label": grouped ? `Labels for ${member.target}` : "Labels" },
        labels().map((name, j) => el("button", {
          type: "button",
          class: "lb-label" + (picked[i] === name ? " selected" : ""),
          "data-label": name,
          "aria-pressed": picked[i] === name ? "true" : "false",
          onclick: () => { focus = i; pick(i, name, { viaKey: false }); },
        }, j < 9 ? el("kbd", {}, j + 1) : null, name.replaceAll("_", " ")))));
  }

  return {
    textClass: "",
    oneKey: true,
    load(own, draft) {
      picked = members.map(() => null);
      if (own && !grouped) picked[0] = own.label;
      if (draft && Array.isArray(draft.labels) && draft.labels.length === members.length) picked = draft.labels;
      else if (draft && draft.label !== undefined && !grouped) picked[0] = draft.label;
      focus = Math.max(0, picked.findIndex((p) => p === null));
    },
    draft: () => (grouped ? { labels: picked } : { label: picked[0] }),
    value: () => ({ label: picked[0] }),
    answers: () => members.map((m, i) => ({ task: m.id, value: { label: picked[i] } })),
    extras: () => ({}),
    problem() {
      const missing = picked.findIndex((p) => p === null);
      if (missing < 0) return null;
      return grouped ? `Pick a label for ${members[missing].target} first (press its number).` : "Pick a label first (press its number).";
    },
    marks: () => [],
    body() {
      return el("div", { class: "lb-label-rows" }, members.map(row));
    },
    handles: (key) => /^[1-9]$/.test(key) || (grouped && (key === "ArrowUp" || key === "ArrowDown")),
    async onKey(e) {
      if (grouped && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
        focus = (focus + (e.key === "ArrowDown" ? 1 : members.length - 1)) % members.length;
        ws.render();
        return true;
      }
      if (!/^[1-9]$/.test(e.key)) return false;
      const j = Number(e.key) - 1;
      if (j < labels().length) await pick(focus, labels()[j], { viaKey: true });
      return true;
    },
    afterRender() {},
  };
}

/** Adjudication page: labels are shown by the server; nothing to draw. */
export function showAdjudication() {}

/** Adjudication page: a label draws nothing on the text. */
export function goldMarks() {
  return [];
}
