// Adjudication: every annotation of one task side by side; the lead decides the gold.
//
// Label kinds: pick an annotation or a label (digits 1–9), Enter saves and opens the
// next open disputed item (the form posts to the page). Span kinds (attribution): the
// span editor (span_editor.js) builds the gold triples from any annotator's triples or
// single spans, with boundaries moved by keyboard or pointer; Enter saves through the
// REST API (offset_unit=utf16) and opens the next item. J/K: next/previous item of the
// disputed list (the filters of the Disputed page are kept in the URL).

import { api, ApiError, el } from "./api.js";
import { ROLES, renderText } from "./spans.js";

const data = JSON.parse(document.getElementById("lb-adjudicate").textContent);
const widget = await import(`./widgets/${data.config.widget}.js`);
const current = data.context.find((s) => s.current);
const context = document.getElementById("lb-context");
const form = document.getElementById("lb-adjudicate-form");
const choice = document.getElementById("lb-choice");
const label = document.getElementById("lb-label");
const save = document.getElementById("lb-save-gold");
const saveNext = document.getElementById("lb-save-next");
const info = document.getElementById("lb-pick-info");
const spans = Boolean(data.config.roles && data.config.roles.length);
let editor = null;

function enableSave(on) {
  save.disabled = !on;
  saveNext.disabled = !on || !data.nextUrl;
}

function pick(value, text) {
  choice.value = value;
  enableSave(true);
  info.textContent = text;
  document.querySelectorAll(".lb-anno").forEach((n) => n.classList.toggle("picked", n.dataset.choice === value));
  document.querySelectorAll(".lb-label[data-label]").forEach((n) => n.classList.toggle("selected", value === "label" && n.dataset.label === label.value));
}

// ------------------------------------------------------------------ label kinds

function setupPicking() {
  renderText(context, data.context, widget.goldMarks(data.gold), current && current.id);
  widget.showAdjudication(data, current);
  document.querySelectorAll(".lb-anno").forEach((card) => {
    const who = card.querySelector(".who span").textContent;
    const handler = () => pick(card.dataset.choice, `Gold will be ${who}'s annotation.`);
    card.addEventListener("click", handler);
    card.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); e.stopPropagation(); handler(); } });
  });
  document.querySelectorAll(".lb-label[data-label]").forEach((b) => b.addEventListener("click", () => {
    label.value = b.dataset.label;
    pick("label", `Gold will be “${b.dataset.label}”.`);
  }));
  document.querySelectorAll("[data-pick=none]").forEach((b) => b.addEventListener("click", () => pick("none", `Gold will be: ${data.config.empty_text}.`)));
  document.querySelectorAll("[data-pick=json]").forEach((b) => b.addEventListener("click", () => pick("json", "Gold will be the JSON value entered.")));
  form.addEventListener("submit", (e) => { if (!choice.value) { e.preventDefault(); info.textContent = "Pick an annotation or a value first."; } });
}

// ------------------------------------------------------------------ span kinds

function triplesOf(value) {
  return (value && value.attributions) || [];
}

function annotationTakes(a) {
  // Inside each annotator's card: one row per triple, "take" for the whole triple and
  // for each of its spans.
  const box = document.querySelector(`[data-annotation="${a.id}"]`);
  if (!box) return;
  const card = box.closest(".lb-anno");
  const list = el("ol", { class: "lb-takes-list" }, triplesOf(a.value).map((t, i) =>
    el("li", { "data-testid": "annotator-triple" },
      el("div", { class: "lb-takes" },
        el("button", { type: "button", class: "lb-btn lb-btn-small lb-take", "data-take": "triple",
          onclick: (e) => { e.stopPropagation(); editor.take(t); context.focus(); } }, `take triple ${i + 1}`),
        ROLES.map((role) => el("button", { type: "button", class: `lb-btn lb-btn-small lb-take role ${role}`, "data-take": role,
          title: `Use ${a.username}'s ${role} in the triple being built`,
          onclick: (e) => { e.stopPropagation(); editor.takeSpan(role, t[role]); context.focus(); } }, `${role}: “${editor.text(t[role])}”`))))));
  box.after(list);
  const use = card.querySelector("button[data-pick]");
  if (use) {
    use.textContent = "take all its triples";
    use.addEventListener("click", (e) => {
      e.stopPropagation();
      editor.setTriples(triplesOf(a.value));
      context.focus();
      editor.changed({ cls: "info", text: `Gold starts from ${a.username}'s ${triplesOf(a.value).length} triple(s).` });
    });
  }
}

function renderEditorLists() {
  const draft = document.getElementById("lb-editor-draft");
  draft.replaceChildren(...ROLES.flatMap((role, i) => [
    el("span", { class: `role ${role}` + (editor.focus === role ? " focus" : "") }, `${i + 1} ${role}`),
    el("span", { "data-role-text": role }, editor.draft[role] ? `“${editor.text(editor.draft[role])}”` : el("span", { class: "lb-muted" }, "—")),
    editor.draft[role]
      ? el("button", { type: "button", class: "lb-btn lb-btn-small", onclick: () => editor.clearRole(role) }, "clear")
      : el("span"),
  ]));
  const box = document.getElementById("lb-editor-triples");
  box.replaceChildren(editor.triples.length
    ? el("table", { class: "lb-triples lb-gold-triples" },
      el("thead", {}, el("tr", {}, el("th", {}, "#"), ...ROLES.map((r) => el("th", {}, r)), el("th", {}, el("span", { class: "lb-sr" }, "actions")))),
      el("tbody", {}, editor.triples.map((t, i) => el("tr", { "data-testid": "gold-triple" },
        el("td", {}, i + 1),
        ...ROLES.map((r) => el("td", { class: r }, editor.text(t[r]))),
        el("td", {},
          el("button", { type: "button", class: "lb-btn lb-btn-small", onclick: () => editor.edit(i) }, "edit"),
          el("button", { type: "button", class: "lb-btn lb-btn-small lb-btn-danger", onclick: () => editor.remove(i) }, "delete"))))))
    : el("p", { class: "lb-muted" }, `No triples: saving records “${data.config.empty_text || "no attribution"}”.`));
  const msg = document.getElementById("lb-editor-message");
  msg.replaceChildren(editor.message
    ? el("div", { class: `lb-msg ${editor.message.cls}`, role: editor.message.cls === "error" ? "alert" : "status" }, editor.message.text)
    : "");
  enableSave(true);
  info.textContent = `Gold will be ${editor.triples.length} triple(s).`;
}

async function saveSpans(then) {
  const problem = editor.problem();
  if (problem) {
    editor.changed({ cls: "error", text: problem });
    return;
  }
  enableSave(false);
  try {
    await api("PUT", `${data.api}tasks/${data.taskId}/gold/?offset_unit=utf16`, {
      value: { attributions: editor.value() },
      note: document.getElementById("id_note").value,
    });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const fields = err.body.errors ? Object.entries(err.body.errors).map(([f, m]) => `${f}: ${[].concat(m).join(" ")}`).join("; ") : "";
    editor.changed({ cls: "error", text: `The gold was not saved: ${err.body.detail || err.message}${fields ? ` (${fields})` : ""}` });
    enableSave(true);
    return;
  }
  const next = then === "next" && data.nextUrl ? data.nextUrl : window.location.href;
  window.location.assign(next);
}

function setupEditor() {
  const { SpanEditor } = editorModule;
  editor = new SpanEditor({
    container: context,
    sentences: data.context,
    currentId: current && current.id,
    onChange: renderEditorLists,
  });
  widget.showAdjudication(data, current);
  data.annotations.forEach(annotationTakes);
  editor.setTriples(triplesOf(data.gold));
  // After a button, the keys go to the text again (Enter saves, arrows move boundaries).
  context.tabIndex = -1;
  context.setAttribute("aria-label", "Text: select words to mark a span");
  document.querySelectorAll("#lb-gold-editor [data-role]").forEach((b) => b.addEventListener("click", () => { editor.mark(b.dataset.role); context.focus(); }));
  document.querySelector("#lb-gold-editor [data-act=add]").addEventListener("click", () => { editor.add(); context.focus(); });
  const none = document.querySelector("#lb-gold-editor [data-act=none]");
  if (none) none.addEventListener("click", () => { editor.setTriples([]); });
  document.querySelectorAll(".lb-anno").forEach((card) => card.removeAttribute("tabindex"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    saveSpans(e.submitter && e.submitter.value === "next" ? "next" : "stay");
  });
}

const editorModule = spans ? await import("./span_editor.js") : null;
if (spans) setupEditor();
else setupPicking();

// ------------------------------------------------------------------ keys

document.addEventListener("keydown", (e) => {
  const tag = (e.target.tagName || "").toLowerCase();
  if (["input", "textarea", "select"].includes(tag) || e.target.isContentEditable) return;
  if (e.metaKey || e.ctrlKey || e.altKey) return;
  const k = e.key;
  if ((k === "j" || k === "J") && data.nextUrl) { e.preventDefault(); window.location.assign(data.nextUrl); return; }
  if ((k === "k" || k === "K") && data.prevUrl) { e.preventDefault(); window.location.assign(data.prevUrl); return; }
  if (k === "Enter" && !(tag === "button" || tag === "a")) {
    e.preventDefault();
    if (spans) { saveSpans("next"); return; }
    if (!choice.value) { info.textContent = "Pick an annotation or a value first."; return; }
    form.requestSubmit(data.nextUrl ? saveNext : save);
    return;
  }
  if (spans) { editor.onKey(e); return; }
  if (/^[1-9]$/.test(k)) {
    const button = document.querySelectorAll(".lb-label[data-label]")[Number(k) - 1];
    if (button) { e.preventDefault(); button.click(); }
  }
});

form.dataset.ready = "true"; // the handlers above are attached: clicks from now on pick
