// The annotator workspace. Talks only to the REST API (session cookie + CSRF token).
//
// Keys: digits pick a label (attribution: 1 source, 2 cue, 3 content for the selected
// words), Enter submits and loads the next task, S skips, Z goes back to the previous
// task to change it, N asks for the next task, A adds the attribution triple, Esc clears
// the selection, ←/→ move the word cursor and Shift+←/→ select words with the keyboard.

import { api, ApiError, el } from "./api.js";
import { ROLES, pointOffset, renderText, snap, spanText, tokenize, tripleMarks } from "./spans.js";

const root = document.getElementById("lb-workspace");
const config = JSON.parse(document.getElementById("lb-workspace-config").textContent);
const API = config.api;
const DRAFT_KEY = (taskId) => `lb-draft-utf16:${config.username}:${taskId}`;
// Every offset this page reads or writes is in UTF-16 code units, as JavaScript counts.
const UNIT = "offset_unit=utf16";

const state = {
  task: null,
  editing: false, // true when showing an earlier, already submitted task
  label: null,
  triples: [],
  draft: { source: null, cue: null, content: null },
  focus: -1,
  selection: null, // {start, end} snapped, document offsets
  caret: 0, // index into tokens for keyboard selection
  anchor: null,
  tokens: [],
  sentences: [],
  startedAt: 0,
  history: [], // ids of tasks submitted in this session, oldest first
  busy: false,
  message: null,
};

const $ = (sel) => root.querySelector(sel);

// ------------------------------------------------------------------------------ loading

async function loadNext() {
  setBusy(true);
  try {
    const url = `${API}projects/${config.projectId}/next-task/?kind=${encodeURIComponent(config.kind)}&${UNIT}`;
    const task = await api("GET", url);
    if (task === null) {
      showEmpty();
    } else {
      show(task, false);
    }
  } catch (err) {
    showError(err, "Could not get the next task.");
  } finally {
    setBusy(false);
    refreshProgress();
  }
}

async function loadTask(taskId) {
  setBusy(true);
  try {
    const task = await api("GET", `${API}tasks/${taskId}/?${UNIT}`);
    show(task, true);
  } catch (err) {
    showError(err, "Could not open that task.");
  } finally {
    setBusy(false);
  }
}

function show(task, editing) {
  state.task = task;
  state.editing = editing || Boolean(task.annotation);
  state.label = null;
  state.triples = [];
  state.draft = { source: null, cue: null, content: null };
  state.focus = -1;
  state.selection = null;
  state.anchor = null;
  state.message = null;
  const own = task.annotation && task.annotation.value;
  if (own) {
    if (task.kind === "attribution") state.triples = structuredClone(own.attributions || []);
    else state.label = own.label;
  }
  const saved = sessionStorage.getItem(DRAFT_KEY(task.id));
  if (saved) {
    try {
      const d = JSON.parse(saved);
      if (d.label !== undefined) state.label = d.label;
      if (d.triples) state.triples = d.triples;
      if (d.draft) state.draft = d.draft;
      state.message = { cls: "info", text: "Restored what you had entered on this task before." };
    } catch { /* a corrupt draft is ignored */ }
  }
  state.sentences = [...task.previous, task.sentence, ...task.next];
  state.tokens = tokenize(state.sentences);
  state.caret = Math.max(0, state.tokens.findIndex(([a]) => a >= task.sentence.start));
  state.startedAt = performance.now();
  render();
}

function saveDraft() {
  if (!state.task) return;
  sessionStorage.setItem(
    DRAFT_KEY(state.task.id),
    JSON.stringify({ label: state.label, triples: state.triples, draft: state.draft }),
  );
}

function clearDraft(taskId) {
  sessionStorage.removeItem(DRAFT_KEY(taskId));
}

async function refreshProgress() {
  const box = $("#lb-progress");
  if (!box) return;
  try {
    const data = await api("GET", `${API}projects/${config.projectId}/progress/`);
    const me = (data.annotators || []).find((a) => a.username === config.username) || (data.annotators || [])[0];
    const row = me && (me.by_kind || []).find((k) => k.kind === config.kind);
    if (!row) return;
    const total = row.done + row.remaining + (row.skipped || 0);
    const pct = total ? Math.round((100 * row.done) / total) : 0;
    box.replaceChildren(...[
      el("div", { class: "lb-stat" }, el("span", {}, "Done"), el("b", { "data-testid": "done" }, row.done)),
      el("div", { class: "lb-stat" }, el("span", {}, "Remaining"), el("b", { "data-testid": "remaining" }, row.remaining)),
      row.skipped ? el("div", { class: "lb-stat lb-muted" }, el("span", {}, "Skipped"), el("span", {}, row.skipped)) : null,
      el("div", { class: "lb-progress", title: `${pct}%` }, el("span", { style: `width:${pct}%` })),
    ].filter(Boolean));
  } catch {
    box.replaceChildren(el("span", { class: "lb-muted" }, "Progress is not available right now."));
  }
}

// ------------------------------------------------------------------------------ actions

function currentValue() {
  if (state.task.kind === "attribution") {
    return { attributions: state.triples.map((t) => ({ source: t.source, cue: t.cue, content: t.content })) };
  }
  return { label: state.label };
}

function draftIsPartial() {
  return ROLES.some((r) => state.draft[r]);
}

async function submit() {
  if (!state.task || state.busy) return;
  if (state.task.kind !== "attribution" && !state.label) {
    flash("error", "Pick a label first (press its number).");
    return;
  }
  if (state.task.kind === "attribution" && draftIsPartial()) {
    if (ROLES.every((r) => state.draft[r])) {
      addTriple();
    } else {
      flash("error", "The triple being built is incomplete: mark its source, cue and content, or press Esc twice to drop it.");
      return;
    }
  }
  const task = state.task;
  const body = { value: currentValue(), lead_time_ms: Math.round(performance.now() - state.startedAt) };
  setBusy(true);
  try {
    await api("PUT", `${API}tasks/${task.id}/annotation/?${UNIT}`, body);
    clearDraft(task.id);
    if (!state.history.includes(task.id)) state.history.push(task.id);
    const wasEditing = state.editing;
    setBusy(false);
    await loadNext();
    flash("ok", wasEditing ? "Your change was saved." : "Saved.");
  } catch (err) {
    setBusy(false);
    saveDraft();
    showError(err, "Your annotation was not saved.");
  }
}

async function skip() {
  if (!state.task || state.busy) return;
  if (state.editing) {
    flash("error", "You already annotated this task, so it cannot be skipped. Change it, or press N for the next task.");
    return;
  }
  const task = state.task;
  setBusy(true);
  try {
    await api("POST", `${API}tasks/${task.id}/skip/`);
    clearDraft(task.id);
    setBusy(false);
    await loadNext();
    flash("info", "Skipped; it will not come back to you.");
  } catch (err) {
    setBusy(false);
    showError(err, "Could not skip this task.");
  }
}

async function back() {
  if (state.busy) return;
  if (state.task) saveDraft();
  const current = state.task ? state.history.indexOf(state.task.id) : -1;
  let target = null;
  if (current > 0) target = state.history[current - 1];
  else if (current === -1 && state.history.length) target = state.history[state.history.length - 1];
  if (target === null) {
    // Nothing this session: the most recent annotation from the "my annotations" list.
    try {
      const data = await api(
        "GET",
        `${API}projects/${config.projectId}/my-annotations/?kind=${encodeURIComponent(config.kind)}`,
      );
      const rows = Array.isArray(data) ? data : data.results || [];
      const ids = rows.map((r) => r.task).filter((id) => !state.task || id !== state.task.id);
      if (ids.length) {
        target = ids[0];
        state.history = [...ids.slice(1).reverse(), target];
      }
    } catch { /* handled below */ }
  }
  if (target === null) {
    flash("info", "There is no earlier task of yours to go back to.");
    return;
  }
  await loadTask(target);
}

// ---------------------------------------------------------------------- attribution editing

function markRole(role) {
  if (!state.selection) {
    flash("error", "Select some words first (drag with the mouse, or Shift+→).");
    return;
  }
  const span = { ...state.selection };
  if (role === "cue") {
    const s = state.task.sentence;
    if (span.start < s.start || span.end > s.end) {
      flash("error", "The cue must lie inside the highlighted sentence.");
      return;
    }
  }
  state.draft[role] = span;
  state.selection = null;
  window.getSelection().removeAllRanges();
  if (ROLES.every((r) => state.draft[r])) addTriple();
  saveDraft();
  render();
}

function addTriple() {
  if (!ROLES.every((r) => state.draft[r])) {
    flash("error", "A triple needs a source, a cue and a content.");
    return;
  }
  state.triples.push({ ...state.draft });
  state.draft = { source: null, cue: null, content: null };
  state.focus = state.triples.length - 1;
  saveDraft();
  render();
}

function editTriple(i) {
  if (draftIsPartial()) {
    flash("error", "Finish or clear the triple you are building first.");
    return;
  }
  state.draft = { ...state.triples[i] };
  state.triples.splice(i, 1);
  state.focus = -1;
  saveDraft();
  render();
}

function deleteTriple(i) {
  state.triples.splice(i, 1);
  state.focus = -1;
  saveDraft();
  render();
}

function selectionFromDom() {
  const text = $("#lb-text");
  const sel = window.getSelection();
  if (!text || !sel.rangeCount || sel.isCollapsed) return;
  const range = sel.getRangeAt(0);
  const a = pointOffset(text, range.startContainer, range.startOffset);
  const b = pointOffset(text, range.endContainer, range.endOffset);
  if (a === null || b === null) return;
  const span = snap(state.tokens, a, b);
  if (!span) return;
  state.selection = span;
  state.caret = state.tokens.findIndex(([x]) => x === span.start);
  state.anchor = state.caret;
  renderText(
    text,
    state.sentences,
    [...attributionMarks(), { ...span, cls: "r-sel" }],
    state.task.sentence.id,
  );
  // Keep the native selection visible-free: the snapped selection is drawn instead.
  sel.removeAllRanges();
  renderSelectionInfo();
}

function moveCaret(delta, extend) {
  const n = state.tokens.length;
  if (!n) return;
  if (extend && state.anchor === null) state.anchor = state.caret;
  if (!extend) state.anchor = null;
  state.caret = Math.min(n - 1, Math.max(0, state.caret + delta));
  if (extend) {
    const i = Math.min(state.anchor, state.caret);
    const j = Math.max(state.anchor, state.caret);
    state.selection = { start: state.tokens[i][0], end: state.tokens[j][1] };
  } else {
    state.selection = null;
  }
  renderTextOnly();
}

// ------------------------------------------------------------------------------ rendering

function attributionMarks() {
  const marks = tripleMarks(state.triples, state.focus);
  for (const role of ROLES) {
    if (state.draft[role]) marks.push({ ...state.draft[role], cls: `r-${role} r-draft` });
  }
  return marks;
}

function renderTextOnly() {
  const text = $("#lb-text");
  if (!text) return;
  const marks = state.task.kind === "attribution" ? attributionMarks() : [];
  if (state.selection) marks.push({ ...state.selection, cls: "r-sel" });
  else if (state.task.kind === "attribution" && state.tokens[state.caret] && state.anchor !== null) {
    const [a, b] = state.tokens[state.caret];
    marks.push({ start: a, end: b, cls: "r-caret" });
  }
  renderText(text, state.sentences, marks, state.task.sentence.id);
  renderSelectionInfo();
}

function renderSelectionInfo() {
  const info = $("#lb-selinfo");
  if (!info) return;
  info.textContent = state.selection
    ? `Selected: “${spanText(state.sentences, state.selection)}” — mark it as 1 source, 2 cue or 3 content.`
    : "Select words with the mouse (or Shift+→), then mark them.";
}

function setBusy(busy) {
  state.busy = busy;
  root.classList.toggle("lb-busy", busy);
  root.querySelectorAll("button[data-act]").forEach((b) => { b.disabled = busy || b.dataset.off === "1"; });
}

function flash(cls, text, errors) {
  state.message = { cls, text, errors };
  renderMessage();
}

function renderMessage() {
  const box = $("#lb-message");
  if (!box) return;
  const m = state.message;
  if (!m) { box.replaceChildren(); return; }
  const list = m.errors && Object.keys(m.errors).length
    ? el("ul", {}, Object.entries(m.errors).map(([f, msgs]) => el("li", {}, f ? `${f}: ${msgs.join(" ")}` : msgs.join(" "))))
    : null;
  box.replaceChildren(el("div", { class: `lb-msg ${m.cls}`, role: m.cls === "error" ? "alert" : "status" }, m.text, list));
}

function showError(err, prefix) {
  if (!(err instanceof ApiError)) throw err;
  const detail = err.body.detail || err.message;
  let text = `${prefix} ${detail}`;
  if (err.status === 409) {
    text = `${prefix} ${detail} What you entered is kept: press N for a new task (if this one comes back, your entry is restored), or Z to go back.`;
  } else if (err.status === 400) {
    text = `${prefix} Please fix: ${detail}`;
  } else if (err.status === 403 || err.status === 401) {
    text = `${prefix} ${detail} (Are you still logged in? Reload the page.)`;
  }
  flash("error", text, err.status === 400 ? err.body.errors : null);
}

function showEmpty() {
  state.task = null;
  const main = $("#lb-main");
  main.replaceChildren(
    el("div", { class: "lb-card lb-empty", "data-testid": "queue-empty" },
      el("div", { class: "big" }, "✓"),
      el("h2", {}, `Nothing left to label for ${config.kindLabel || config.kind}`),
      el("p", { class: "lb-muted" }, "You have done or skipped every task of this kind that still needs an annotator. Pick another kind above, or press Z to review your last answer."),
      el("p", {}, el("button", { class: "lb-btn", "data-act": "back", onclick: back }, el("kbd", {}, "Z"), " Go back")),
    ),
  );
  renderMessage();
}

function labelButtons() {
  const labels = state.task.schema.labels || [];
  return el("div", { class: "lb-labels", role: "group", "aria-label": "Labels" },
    labels.map((label, i) => el("button", {
      type: "button",
      class: "lb-label" + (state.label === label ? " selected" : ""),
      "data-label": label,
      "aria-pressed": state.label === label ? "true" : "false",
      onclick: () => { state.label = label; saveDraft(); render(); },
      ondblclick: () => { state.label = label; submit(); },
    }, i < 9 ? el("kbd", {}, i + 1) : null, label.replaceAll("_", " "))),
  );
}

function attributionPanel() {
  const roleButtons = el("div", { class: "lb-roles" },
    ROLES.map((role, i) => el("button", {
      type: "button", class: `lb-btn lb-role-btn ${role}`, "data-role": role, onclick: () => markRole(role),
    }, el("kbd", {}, i + 1), ` ${role}`)),
    el("button", { type: "button", class: "lb-btn", "data-act": "add", onclick: addTriple,
      disabled: !ROLES.every((r) => state.draft[r]) }, el("kbd", {}, "A"), " Add triple"),
    el("span", { id: "lb-selinfo", class: "lb-muted lb-small" }),
  );
  const draftRows = el("div", { class: "lb-draft", "data-testid": "draft" },
    ROLES.flatMap((role) => [
      el("span", { class: `role ${role}` }, role),
      el("span", {}, state.draft[role] ? `“${spanText(state.sentences, state.draft[role])}”` : el("span", { class: "lb-muted" }, "—")),
      state.draft[role]
        ? el("button", { type: "button", class: "lb-btn lb-btn-small", onclick: () => { state.draft[role] = null; saveDraft(); render(); } }, "clear")
        : el("span"),
    ]),
  );
  const rows = state.triples.map((t, i) => el("tr", { class: i === state.focus ? "focus" : "", "data-testid": "triple" },
    el("td", {}, i + 1),
    ...ROLES.map((role) => el("td", { class: role }, spanText(state.sentences, t[role]))),
    el("td", {},
      el("button", { type: "button", class: "lb-btn lb-btn-small", onclick: () => editTriple(i) }, "edit"),
      el("button", { type: "button", class: "lb-btn lb-btn-small lb-btn-danger", onclick: () => deleteTriple(i) }, "delete")),
  ));
  const table = state.triples.length
    ? el("table", { class: "lb-triples" },
      el("thead", {}, el("tr", {}, el("th", {}, "#"), ...ROLES.map((r) => el("th", {}, r)), el("th", {}, ""))),
      el("tbody", {}, rows))
    : el("p", { class: "lb-muted" }, "No triples: submitting now records “no attribution in this sentence”.");
  return el("div", {},
    el("div", { class: "lb-legend" },
      ROLES.map((r) => el("span", {}, el("i", { class: `lb-sw ${r}` }), r)),
      el("span", {}, "overlapping roles combine: background, outline and underline")),
    roleButtons, el("h3", {}, "Triple being built"), draftRows, el("h3", {}, `Triples (${state.triples.length})`), table);
}

function render() {
  const t = state.task;
  const main = $("#lb-main");
  if (!t) return;
  const head = el("div", { class: "lb-taskhead" },
    el("div", {},
      el("span", { class: "lb-doc-title" }, t.document.title || `Document ${t.document.id}`),
      el("span", { class: "lb-muted" }, ` · sentence ${t.sentence.position + 1} · task #${t.id}`)),
    state.editing ? el("span", { class: "lb-chip", "data-testid": "editing" }, "editing your earlier answer") : null,
  );
  const target = t.target
    ? el("p", {}, "Stance toward ", el("span", { class: "lb-target", "data-testid": "target" }, t.target))
    : null;
  const text = el("div", { id: "lb-text", class: "lb-text" + (t.kind === "attribution" ? " lb-attr" : ""), "data-testid": "text" });
  const body = t.kind === "attribution" ? attributionPanel() : labelButtons();
  const actions = el("div", { class: "lb-actions" },
    el("button", { type: "button", class: "lb-btn lb-btn-primary", "data-act": "submit", onclick: submit },
      el("kbd", {}, "Enter"), state.editing ? " Save change" : " Submit & next"),
    el("button", { type: "button", class: "lb-btn", "data-act": "skip", onclick: skip, disabled: state.editing, "data-off": state.editing ? "1" : null }, el("kbd", {}, "S"), " Skip"),
    el("button", { type: "button", class: "lb-btn", "data-act": "back", onclick: back }, el("kbd", {}, "Z"), " Previous"),
    state.editing ? el("button", { type: "button", class: "lb-btn", "data-act": "next", onclick: loadNext }, el("kbd", {}, "N"), " Back to the queue") : null,
    el("span", { class: "lb-spacer" }),
    t.lease && t.lease.expires_at && !state.editing
      ? el("span", { class: "lb-muted lb-small" }, `held until ${new Date(t.lease.expires_at).toLocaleTimeString()}`)
      : null,
  );
  main.replaceChildren(el("div", { class: "lb-card" }, head, target, text, el("div", { id: "lb-message" }), body, actions));
  $("#lb-guidelines").textContent = t.guidelines || "This project has no guidelines yet.";
  renderTextOnly();
  renderMessage();
}

// ------------------------------------------------------------------------------ events

function onKey(e) {
  const tag = (e.target.tagName || "").toLowerCase();
  if (["input", "textarea", "select"].includes(tag) || e.target.isContentEditable) return;
  if (e.metaKey || e.ctrlKey || e.altKey) return;
  const key = e.key;
  if (key === "z" || key === "Z") { e.preventDefault(); back(); return; }
  if (key === "n" || key === "N") { e.preventDefault(); loadNext(); return; }
  if (!state.task) return;
  if (key === "Enter") { e.preventDefault(); submit(); return; }
  if (key === "s" || key === "S") { e.preventDefault(); skip(); return; }
  if (/^[1-9]$/.test(key)) {
    e.preventDefault();
    const i = Number(key) - 1;
    if (state.task.kind === "attribution") {
      if (i < ROLES.length) markRole(ROLES[i]);
    } else {
      const labels = state.task.schema.labels || [];
      if (i < labels.length) { state.label = labels[i]; saveDraft(); render(); }
    }
    return;
  }
  if (state.task.kind !== "attribution") return;
  if (key === "a" || key === "A") { e.preventDefault(); addTriple(); return; }
  if (key === "ArrowRight" || key === "ArrowLeft") {
    e.preventDefault();
    moveCaret(key === "ArrowRight" ? 1 : -1, e.shiftKey);
    return;
  }
  if (key === "Escape") {
    e.preventDefault();
    if (state.selection) { state.selection = null; state.anchor = null; }
    else { state.draft = { source: null, cue: null, content: null }; saveDraft(); }
    render();
  }
}

root.addEventListener("mouseup", (e) => {
  if (state.task && state.task.kind === "attribution" && e.target.closest("#lb-text")) {
    selectionFromDom();
  }
});
document.addEventListener("keydown", onKey);

if (config.projectId && config.kind) loadNext();
