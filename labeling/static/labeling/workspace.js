// The annotator workspace. Talks only to the REST API (session cookie + CSRF token).
//
// What a kind's answer looks like is its widget's business: the kind registry names the
// widget (``task.schema.widget``, a module in widgets/) and this page only loads it.
// Common keys: Enter submits and shows the next task, S skips, U undoes the last submit
// or skip (while its lease holds), Z goes back to the previous task to change it, N asks
// for the next task; the widget handles the rest.
//
// Speed: the next task is leased ahead (``next-task?after=``) with its document, so the
// next sentence is drawn without waiting for the server; answers are saved in the
// background, in order. Keys are queued and handled one after the other, so keys typed
// while a task is being drawn are never dropped.

import { api, ApiError, el } from "./api.js";
import { renderText } from "./spans.js";
import { predictionList } from "./predictions.js";

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
// Kinds with several targets (stance): all targets of a sentence on one screen.
const GROUP = (config.kindConfig.targets || []).length > 1 ? "&group=sentence" : "";

const state = {
  task: null,
  widget: null, // the task's widget (see widgets/labels.js for its interface)
  editing: false, // true when showing an earlier, already submitted task
  sentences: [], // the whole document (or the task's window if it could not be read)
  startedAt: 0,
  history: [], // {ids, action} of submits and skips in this session, oldest first
  ahead: null, // {after, promise}: the next task, leased ahead
  writes: Promise.resolve(), // answers being saved, in order
  confirmWithEnter: Boolean(config.confirmWithEnter),
  message: null,
};
window.lbTimings = []; // {key, shown}: performance.now() of a key and of the next task drawn

const $ = (sel) => root.querySelector(sel);

// ------------------------------------------------------------------------------ loading

const documents = new Map(); // document id -> promise of its context (all sentences)
function loadDocument(id) {
  if (!documents.has(id)) {
    const promise = api("GET", `${API}documents/${id}/?${UNIT}`);
    promise.catch(() => documents.delete(id));
    documents.set(id, promise);
  }
  return documents.get(id);
}

const nextUrl = (after) => `${API}projects/${config.projectId}/next-task/?kind=${encodeURIComponent(config.kind)}&${UNIT}${GROUP}`
  + (after ? `&after=${after}` : "");

async function fetchTask(after) {
  const task = await api("GET", nextUrl(after));
  if (task) {
    try { await loadDocument(task.document.id); } catch { /* the task's window is shown */ }
  }
  return task;
}

// Lease the task after the current one once the answers being saved are stored (else
// the server would hand back a task still held for a pending answer).
function prefetch() {
  if (!state.task || state.editing) { state.ahead = null; return; }
  const after = state.task.id;
  const promise = state.writes.then(() => fetchTask(after)).catch(() => undefined);
  state.ahead = { after, promise };
}

async function advance(fromId) {
  let task;
  const ahead = state.ahead;
  state.ahead = null;
  if (ahead && ahead.after === fromId) task = await ahead.promise;
  try {
    if (task === undefined) {
      await state.writes;
      task = await fetchTask(null);
    }
  } catch (err) {
    showError(err, "Could not get the next task.");
    return;
  }
  if (task === null) showEmpty();
  else await show(task, false);
  prefetch();
  refreshProgressSoon();
}

async function loadNext() {
  await advance(null);
}

async function loadTask(taskId) {
  try {
    await state.writes;
    const task = await api("GET", `${API}tasks/${taskId}/?${UNIT}`);
    try { await loadDocument(task.document.id); } catch { /* window only */ }
    await show(task, true);
  } catch (err) {
    showError(err, "Could not open that task.");
  }
}

async function show(task, editing) {
  const module = await widgetModule(task.schema.widget || config.kindConfig.widget);
  let context = null;
  try { context = await loadDocument(task.document.id); } catch { /* window only */ }
  state.task = task;
  state.editing = editing || Boolean(task.annotation);
  state.message = null;
  state.document = context;
  state.sentences = context ? context.sentences : [...task.previous, task.sentence, ...task.next];
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
  scrollToSentence();
  const shown = performance.now();
  const pending = window.lbTimings.find((t) => t.shown === null);
  if (pending) pending.shown = shown;
  root.dataset.taskId = task.id;
}

function saveDraft() {
  if (!state.task) return;
  sessionStorage.setItem(DRAFT_KEY(state.task.id), JSON.stringify(state.widget.draft()));
}

function clearDraft(taskId) {
  sessionStorage.removeItem(DRAFT_KEY(taskId));
}

let progressTimer = null;
function refreshProgressSoon() {
  clearTimeout(progressTimer);
  progressTimer = setTimeout(() => state.writes.then(refreshProgress), 400);
}

async function refreshProgress() {
  const box = document.getElementById("lb-progress");
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

function saveInBackground(task, answers, draft) {
  const position = task.sentence.position + 1;
  const lead = Math.round(performance.now() - state.startedAt);
  const save = () => Promise.all(answers.map((a) => api("PUT", `${API}tasks/${a.task}/annotation/?${UNIT}`, {
    value: a.value, lead_time_ms: lead, ...(a.extras || {}),
  })));
  state.writes = state.writes.then(save).then(
    () => {
      answers.forEach((a) => clearDraft(a.task));
      state.history.push({ ids: answers.map((a) => a.task), action: "submit", draft });
    },
    (err) => {
      sessionStorage.setItem(DRAFT_KEY(task.id), JSON.stringify(draft));
      state.history.push({ ids: answers.map((a) => a.task), action: "failed", draft });
      showError(err, `Your answer to sentence ${position} was not saved.`);
    },
  );
  return state.writes;
}

async function submit() {
  if (!state.task) return;
  const problem = state.widget.problem();
  if (problem) {
    flash("error", problem);
    return;
  }
  const task = state.task;
  const answers = state.widget.answers
    ? state.widget.answers()
    : [{ task: task.id, value: state.widget.value(), extras: state.widget.extras ? state.widget.extras() : {} }];
  const draft = state.widget.draft();
  if (state.editing) {
    try {
      await state.writes;
      for (const a of answers) {
        await api("PUT", `${API}tasks/${a.task}/annotation/?${UNIT}`, { value: a.value, ...(a.extras || {}) });
        clearDraft(a.task);
      }
    } catch (err) {
      saveDraft();
      showError(err, "Your change was not saved.");
      return;
    }
    await advance(null);
    flash("ok", "Your change was saved.");
    return;
  }
  saveInBackground(task, answers, draft);
  await advance(task.id);
}

async function skip() {
  if (!state.task) return;
  if (state.editing) {
    flash("error", "You already annotated this task, so it cannot be skipped. Change it, or press N for the next task.");
    return;
  }
  const task = state.task;
  const ids = task.group ? task.group.map((m) => m.id) : [task.id];
  const draft = state.widget.draft();
  state.writes = state.writes.then(() => Promise.all(ids.map((id) => api("POST", `${API}tasks/${id}/skip/`)))).then(
    () => { ids.forEach(clearDraft); state.history.push({ ids, action: "skip", draft }); },
    (err) => showError(err, "Could not skip that task."),
  );
  await advance(task.id);
  flash("info", "Skipped; it will not come back to you. U undoes it.");
}

async function undo() {
  await state.writes;
  const last = state.history[state.history.length - 1];
  if (!last || last.action === "failed") {
    flash("info", "There is nothing to undo.");
    return;
  }
  let task;
  try {
    for (const [i, id] of last.ids.entries()) {
      const final = i === last.ids.length - 1;
      const body = await api("POST", `${API}tasks/${id}/undo/?${UNIT}${final ? GROUP : ""}`);
      if (final) task = body;
    }
    await loadDocument(task.document.id);
  } catch (err) {
    showError(err, "Could not undo.");
    return;
  }
  state.history.pop();
  if (last.action === "submit") sessionStorage.setItem(DRAFT_KEY(last.ids[0]), JSON.stringify(last.draft));
  // The task on screen stays leased to you and comes right after the one brought back.
  const onScreen = state.task && !state.editing ? state.task : null;
  await show(task, false);
  state.ahead = onScreen ? { after: task.id, promise: Promise.resolve(onScreen) } : null;
  if (!onScreen) prefetch();
  refreshProgressSoon();
  flash("ok", last.action === "submit" ? "Undone: your answer was withdrawn; change it and submit again." : "Undone: the task is yours again.");
}

async function back() {
  if (state.task) saveDraft();
  await state.writes;
  const done = state.history.filter((h) => h.action === "submit").flatMap((h) => h.ids);
  const current = state.task ? done.indexOf(state.task.id) : -1;
  let target = null;
  if (current > 0) target = done[current - 1];
  else if (current === -1 && done.length) target = done[done.length - 1];
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
        state.history = [...ids.slice(1).reverse().map((id) => ({ ids: [id], action: "submit" })), { ids: [target], action: "submit" }, ...state.history];
      }
    } catch { /* handled below */ }
  }
  if (target === null) {
    flash("info", "There is no earlier task of yours to go back to.");
    return;
  }
  await loadTask(target);
}

async function setConfirmWithEnter(on) {
  state.confirmWithEnter = on;
  try {
    await api("PATCH", `${API}me/settings/`, { confirm_with_enter: on });
  } catch (err) {
    showError(err, "Your setting was not saved.");
  }
  if (state.task) render();
}

// ------------------------------------------------------------------------------ rendering

function renderTextOnly() {
  const text = $("#lb-text");
  if (!text) return;
  renderText(text, state.sentences, state.widget.marks(), state.task.sentence.id);
  state.widget.afterRender();
}

// Keep the current sentence in view inside the text box, and the card on screen.
function scrollToSentence() {
  const box = $("#lb-text");
  const current = box && box.querySelector('[aria-current="true"]');
  if (!current) return;
  box.scrollTop = Math.max(0, current.offsetTop - box.clientHeight / 3);
  const card = $("#lb-main");
  const rect = card.getBoundingClientRect();
  if (rect.top < 0 || rect.top > window.innerHeight / 3) window.scrollTo({ top: window.scrollY + rect.top - 8 });
}

function flash(cls, text, errors) {
  state.message = { cls, text, errors };
  renderMessage();
}

function clearMessage() {
  if (state.message) {
    state.message = null;
    renderMessage();
  }
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
  root.dataset.taskId = "";
  const main = $("#lb-main");
  main.replaceChildren(
    el("div", { class: "lb-card lb-empty", "data-testid": "queue-empty" },
      el("div", { class: "big" }, "✓"),
      el("h2", {}, `Nothing left to label for ${config.kindLabel || config.kind}`),
      el("p", { class: "lb-muted" }, "You have done or skipped every task of this kind that still needs an annotator. Pick another kind above, press U to undo your last answer, or Z to review it."),
      el("div", { id: "lb-message" }),
      el("p", {}, el("button", { class: "lb-btn", "data-act": "back", onclick: () => enqueue("z") }, el("kbd", {}, "Z"), " Go back")),
    ),
  );
  renderMessage();
}

function render() {
  const t = state.task;
  const main = $("#lb-main");
  if (!t) return;
  const doc = state.document || t.document;
  const source = doc.source_url || t.document.source_url;
  const head = el("div", { class: "lb-taskhead" },
    el("div", {},
      el("span", { class: "lb-doc-title" }, doc.title || `Document ${t.document.id}`),
      source ? el("a", { class: "lb-source lb-small", href: source, target: "_blank", rel: "noopener noreferrer" }, new URL(source, location.href).hostname) : null,
      el("span", { class: "lb-muted" }, ` · sentence ${t.sentence.position + 1}${state.document ? ` of ${state.document.sentences.length}` : ""} · task #${t.id}`)),
    state.editing ? el("span", { class: "lb-chip", "data-testid": "editing" }, "editing your earlier answer") : null,
  );
  const target = t.target && !(t.group && t.group.length > 1)
    ? el("p", { class: "lb-target-line" }, "Stance toward ", el("span", { class: "lb-target", "data-testid": "target" }, t.target))
    : null;
  const text = el("div", { id: "lb-text", class: "lb-text" + state.widget.textClass, "data-testid": "text", tabindex: "0", "aria-label": "Document text; the current sentence is highlighted" });
  const body = state.widget.body();
  const oneKey = state.widget.oneKey && !state.confirmWithEnter;
  const actions = el("div", { class: "lb-actions" },
    el("button", { type: "button", class: "lb-btn lb-btn-primary", "data-act": "submit", onclick: () => enqueue("Enter") },
      el("kbd", {}, "Enter"), state.editing ? " Save change" : " Submit & next"),
    el("button", { type: "button", class: "lb-btn", "data-act": "skip", onclick: () => enqueue("s"), disabled: state.editing }, el("kbd", {}, "S"), " Skip"),
    el("button", { type: "button", class: "lb-btn", "data-act": "undo", onclick: () => enqueue("u") }, el("kbd", {}, "U"), " Undo"),
    el("button", { type: "button", class: "lb-btn", "data-act": "back", onclick: () => enqueue("z") }, el("kbd", {}, "Z"), " Previous"),
    state.editing ? el("button", { type: "button", class: "lb-btn", "data-act": "next", onclick: () => enqueue("n") }, el("kbd", {}, "N"), " Back to the queue") : null,
    el("span", { class: "lb-spacer" }),
    oneKey ? el("span", { class: "lb-muted lb-small" }, "a label key submits") : null,
  );
  main.replaceChildren(el("div", { class: "lb-card lb-task" }, head, target, text, el("div", { id: "lb-message" }), body, predictionList(t, state.sentences), actions));
  const guidelines = document.getElementById("lb-guidelines");
  if (guidelines) guidelines.textContent = t.guidelines || "This project has no guidelines yet.";
  renderTextOnly();
  renderMessage();
}

// ------------------------------------------------------------------------------ keys

const COMMON = new Set(["Enter", "s", "S", "u", "U", "z", "Z", "n", "N"]);
const keys = []; // queued keys, handled in order
let pumping = false;

function enqueue(key, shiftKey = false) {
  keys.push({ key, shiftKey, at: performance.now() });
  pump();
}

async function pump() {
  if (pumping) return;
  pumping = true;
  try {
    while (keys.length) await handle(keys.shift());
  } finally {
    pumping = false;
  }
}

async function handle(k) {
  const key = k.key;
  const before = state.task && state.task.id;
  window.lbTimings.push({ key: k.at, shown: null });
  if (key === "z" || key === "Z") await back();
  else if (key === "n" || key === "N") await loadNext();
  else if (key === "u" || key === "U") await undo();
  else if (!state.task) { /* nothing on screen: the key has no task to act on */ }
  else if (key === "Enter") await submit();
  else if (key === "s" || key === "S") await skip();
  else await state.widget.onKey({ key, shiftKey: k.shiftKey, preventDefault() {} });
  // Keys that did not change the task are not timed.
  const last = window.lbTimings[window.lbTimings.length - 1];
  if (last && last.shown === null && (!state.task || state.task.id === before)) window.lbTimings.pop();
}

function onKey(e) {
  const tag = (e.target.tagName || "").toLowerCase();
  if (["input", "textarea", "select"].includes(tag) || e.target.isContentEditable) return;
  if (e.metaKey || e.ctrlKey || e.altKey) return;
  const widgetKey = state.widget && state.widget.handles && state.widget.handles(e.key);
  if (!COMMON.has(e.key) && !widgetKey) return;
  if (e.key === "Enter" && tag === "button" && !e.target.dataset.act) return; // a focused button
  e.preventDefault();
  enqueue(e.key, e.shiftKey);
}

// What widgets may use of the page.
const ws = {
  state, $, render, renderTextOnly, flash, clearMessage, saveDraft,
  submit: () => enqueue("Enter"),
  submitNow: submit,
  get confirmWithEnter() { return state.confirmWithEnter; },
};
document.addEventListener("keydown", onKey);

const toggle = document.getElementById("lb-confirm-enter");
if (toggle) {
  toggle.checked = state.confirmWithEnter;
  toggle.addEventListener("change", () => setConfirmWithEnter(toggle.checked));
}

if (config.projectId && config.kind) loadNext();
