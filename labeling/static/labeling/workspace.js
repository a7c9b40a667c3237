// The annotator workspace. Talks only to the REST API (session cookie + CSRF token).
//
// What a kind's answer looks like is its widget's business: the kind registry names the
// widget (``task.schema.widget``, a module in widgets/) and this page only loads it.
// Common keys: Enter submits and loads the next task, S skips, Z goes back to the
// previous task to change it, N asks for the next task; the widget handles the rest.

import { api, ApiError, el } from "./api.js";
import { renderText } from "./spans.js";

const widgets = {}; // widget name -> module, loaded on first use
async function widgetModule(name) {
  if (!widgets[name]) widgets[name] = await import(`./widgets/${name}.js`);
  return widgets[name];
}

const root = document.getElementById("lb-workspace");
const config = JSON.parse(document.getElementById("lb-workspace-config").textContent);
const API = config.api;
const DRAFT_KEY = (taskId) => `lb-draft-utf16:${config.username}:${taskId}`;
// Every offset this page reads or writes is in UTF-16 code units, as JavaScript counts.
const UNIT = "offset_unit=utf16";

const state = {
  task: null,
  widget: null, // the task's widget (see widgets/labels.js for its interface)
  editing: false, // true when showing an earlier, already submitted task
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
      await show(task, false);
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
    await show(task, true);
  } catch (err) {
    showError(err, "Could not open that task.");
  } finally {
    setBusy(false);
  }
}

async function show(task, editing) {
  const module = await widgetModule(task.schema.widget || config.kindConfig.widget);
  state.task = task;
  state.editing = editing || Boolean(task.annotation);
  state.message = null;
  state.sentences = [...task.previous, task.sentence, ...task.next];
  state.widget = module.create(ws);
  const own = task.annotation && task.annotation.value;
  let draft = null;
  const saved = sessionStorage.getItem(DRAFT_KEY(task.id));
  if (saved) {
    try {
      draft = JSON.parse(saved);
      state.message = { cls: "info", text: "Restored what you had entered on this task before." };
    } catch { /* a corrupt draft is ignored */ }
  }
  state.widget.load(own || null, draft);
  state.startedAt = performance.now();
  render();
}

function saveDraft() {
  if (!state.task) return;
  sessionStorage.setItem(DRAFT_KEY(state.task.id), JSON.stringify(state.widget.draft()));
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

async function submit() {
  if (!state.task || state.busy) return;
  const problem = state.widget.problem();
  if (problem) {
    flash("error", problem);
    return;
  }
  const task = state.task;
  const body = {
    value: state.widget.value(),
    lead_time_ms: Math.round(performance.now() - state.startedAt),
    ...(state.widget.extras ? state.widget.extras() : {}), // e.g. from_suggestion
  };
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

// ------------------------------------------------------------------------------ rendering

function renderTextOnly() {
  const text = $("#lb-text");
  if (!text) return;
  renderText(text, state.sentences, state.widget.marks(), state.task.sentence.id);
  state.widget.afterRender();
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
  const text = el("div", { id: "lb-text", class: "lb-text" + state.widget.textClass, "data-testid": "text" });
  const body = state.widget.body();
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
  state.widget.onKey(e);
}

root.addEventListener("mouseup", (e) => {
  if (state.task) state.widget.onMouseUp(e);
});

// What widgets may use of the page.
const ws = { state, $, render, renderTextOnly, flash, saveDraft, submit };
document.addEventListener("keydown", onKey);

if (config.projectId && config.kind) loadNext();
