// Workspace widget of attribution: mark source, cue and content spans of triples.
//
// Keyboard: a caret sits on a word of the sentence (←/→ move it word by word, Shift
// extends a selection); "," extends to the end of the clause, "." to the end of the
// sentence, '"' to the closing quotation mark; 1 source, 2 cue, 3 content mark the
// selection (or the word under the caret). A complete triple is added by itself; A adds
// it, Y accepts the next suggestion, Esc clears the selection then the triple being built.
// Pointer (mouse, pen, touch): click a word or drag over words; it becomes the armed role
// (the next one missing, or the one picked with 1/2/3 after using the pointer).
// Offsets are document-level UTF-16 code units; tokens are the server tokenizer's.

import { el } from "../api.js";
import { ROLES, pointOffset, renderText, snap, spanText, tokenize, tripleMarks } from "../spans.js";

const emptyDraft = () => ({ source: null, cue: null, content: null });
const WORD = /[\p{L}\p{N}]/u;
const CLAUSE_END = /^[,;:—–]$/u;
const CLOSING_QUOTE = /^[”"’'»」』]$/u;

export function create(ws) {
  const s = ws.state;
  let triples = [];
  let draft = emptyDraft();
  let focus = -1;
  let selection = null; // {start, end} snapped, document offsets
  let caret = 0; // index into tokens
  let anchor = null;
  let keyboard = true; // role keys act on the caret (false after a pointer gesture: they arm)
  let armed = null; // role the next pointer gesture marks (null: the next missing one)
  let tokens = [];
  let fromSuggestion = false; // the value started from a suggested triple (sent with the PUT)
  let drag = null; // {from: token index} while a pointer is down
  let lastMark = null; // {role, added} of the last span marked by a pointer gesture

  const partial = () => ROLES.some((r) => draft[r]);
  const complete = () => ROLES.every((r) => draft[r]);
  const nextRole = () => armed || ROLES.find((r) => !draft[r]) || "source";
  let words = []; // each token's text
  const text = (i) => words[i];
  const isWord = (i) => WORD.test(words[i]);
  const sentence = () => s.task.sentence;
  const inSentence = (i) => tokens[i][0] >= sentence().start && tokens[i][1] <= sentence().end;

  function changed() {
    ws.clearMessage();
    ws.saveDraft();
    ws.render();
  }

  function addTriple() {
    if (!complete()) {
      ws.flash("error", "A triple needs a source, a cue and a content.");
      return;
    }
    triples.push({ ...draft });
    draft = emptyDraft();
    focus = triples.length - 1;
    armed = null;
    changed();
  }

  function mark(role, span, { byKey }) {
    if (role === "cue" && (span.start < sentence().start || span.end > sentence().end)) {
      ws.flash("error", "The cue must lie inside the highlighted sentence.");
      return;
    }
    draft[role] = span;
    selection = null;
    anchor = null;
    armed = null;
    // The caret goes on to the next word after the span.
    const after = tokens.findIndex(([a], i) => a >= span.end && isWord(i));
    if (after >= 0) caret = after;
    keyboard = byKey;
    lastMark = byKey ? null : { role, added: false };
    if (complete()) {
      addTriple();
      if (!byKey) lastMark = { role, added: true };
      return;
    }
    changed();
  }

  // A role key (or button) right after a pointer gesture gives that span this role.
  function reassign(role) {
    const last = lastMark;
    lastMark = null;
    if (last.role === role) return;
    const span = draft[last.role];
    if (role === "cue" && (span.start < sentence().start || span.end > sentence().end)) {
      ws.flash("error", "The cue must lie inside the highlighted sentence.");
      return;
    }
    draft[last.role] = draft[role];
    draft[role] = span;
    if (complete()) { addTriple(); return; }
    changed();
  }

  function roleKey(role) {
    if (selection) { mark(role, { ...selection }, { byKey: true }); return; }
    if (lastMark && !lastMark.added) { reassign(role); return; }
    lastMark = null; // after a finished triple, a role key picks the role of the next gesture
    if (keyboard && tokens[caret]) {
      mark(role, { start: tokens[caret][0], end: tokens[caret][1] }, { byKey: true });
      return;
    }
    armed = role;
    ws.clearMessage();
    ws.render();
  }

  const sameTriple = (a, b) =>
    ROLES.every((r) => a[r] && b[r] && a[r].start === b[r].start && a[r].end === b[r].end);
  const accepted = (suggestion) => triples.some((t) => sameTriple(t, suggestion));

  // Add suggestion `i` (default: the first one not among the triples yet) as a triple.
  function acceptSuggestion(i) {
    const list = s.task.suggestions || [];
    if (!list.length) {
      ws.flash("error", "There are no suggestions for this sentence.");
      return;
    }
    const index = i === undefined ? list.findIndex((x) => !accepted(x)) : i;
    if (index < 0 || accepted(list[index])) {
      ws.flash("info", "That suggestion is already among your triples.");
      return;
    }
    const { source, cue, content } = list[index];
    triples.push({ source: { ...source }, cue: { ...cue }, content: { ...content } });
    fromSuggestion = true;
    focus = triples.length - 1;
    ws.saveDraft();
    ws.render();
    ws.flash("ok", `Suggestion ${index + 1} added: edit or delete it below; Enter submits.`);
  }

  function suggestionList() {
    const list = s.task.suggestions || [];
    if (!list.length) return null;
    return el("div", { class: "lb-suggestions", "data-testid": "suggestions" },
      el("h3", {}, `Suggestions (${list.length}) `,
        el("span", { class: "lb-muted lb-small" }, "found by rules; Y accepts the next one")),
      el("ol", {}, list.map((x, i) => {
        const done = accepted(x);
        return el("li", { class: done ? "accepted" : "", "data-testid": "suggestion" },
          ...ROLES.map((role) => el("span", { class: `role ${role}` }, `${role}: “${spanText(s.sentences, x[role])}” `)),
          el("span", { class: "lb-muted lb-small" }, x.rule), " ",
          done
            ? el("span", { class: "lb-chip" }, "accepted")
            : el("button", { type: "button", class: "lb-btn lb-btn-small", "data-act": "accept", onclick: () => acceptSuggestion(i) },
              el("kbd", {}, "Y"), " accept"));
      })));
  }

  function editTriple(i) {
    if (partial()) {
      ws.flash("error", "Finish or clear the triple you are building first.");
      return;
    }
    draft = { ...triples[i] };
    triples.splice(i, 1);
    focus = -1;
    changed();
  }

  function deleteTriple(i) {
    triples.splice(i, 1);
    focus = -1;
    changed();
  }

  function tripleAndDraftMarks() {
    const marks = tripleMarks(triples, focus);
    for (const role of ROLES) {
      if (draft[role]) marks.push({ ...draft[role], cls: `r-${role} r-draft` });
    }
    return marks;
  }

  // --- keyboard selection

  function select(i, j) {
    const a = Math.min(i, j);
    const b = Math.max(i, j);
    selection = { start: tokens[a][0], end: tokens[b][1] };
  }

  function moveCaret(delta, extend) {
    const n = tokens.length;
    if (!n) return;
    keyboard = true;
    lastMark = null;
    if (extend && anchor === null) anchor = caret;
    if (!extend) anchor = null;
    let i = caret;
    do { i += delta; } while (i > 0 && i < n - 1 && !isWord(i));
    caret = Math.min(n - 1, Math.max(0, i));
    if (extend) select(anchor, caret);
    else selection = null;
    ws.renderTextOnly();
  }

  // Extend from the caret (or the selection's start) up to the word before a stop.
  function extendTo(stop) {
    keyboard = true;
    lastMark = null;
    const from = anchor !== null ? anchor : caret;
    let j = Math.max(caret, from);
    let last = j;
    while (j + 1 < tokens.length && inSentence(j + 1) && !stop(j + 1)) {
      j += 1;
      if (isWord(j)) last = j;
    }
    anchor = from;
    caret = last;
    select(from, last);
    ws.renderTextOnly();
  }

  // --- pointer (mouse, pen, touch)

  function tokenAt(x, y, preferEnd = false) {
    const box = ws.$("#lb-text");
    let node = null;
    let offset = 0;
    if (document.caretPositionFromPoint) {
      const p = document.caretPositionFromPoint(x, y);
      if (p) { node = p.offsetNode; offset = p.offset; }
    } else if (document.caretRangeFromPoint) {
      const r = document.caretRangeFromPoint(x, y);
      if (r) { node = r.startContainer; offset = r.startOffset; }
    }
    if (!node || !box.contains(node)) return -1;
    const at = pointOffset(box, node, offset);
    if (at === null) return -1;
    // The token holding the point, else the one ending there (the right half of its last
    // character), else the nearest one after it.
    // Dragging forward, a point between two tokens belongs to the one before it.
    let i = preferEnd ? tokens.findIndex(([, b]) => b === at) : -1;
    if (i < 0) i = tokens.findIndex(([a, b]) => a <= at && at < b);
    if (i < 0) i = tokens.findIndex(([, b]) => b === at);
    if (i < 0) i = tokens.findIndex(([a]) => a >= at);
    return i;
  }

  function onPointerDown(e) {
    if (e.button !== undefined && e.button > 0) return;
    const i = tokenAt(e.clientX, e.clientY);
    if (i < 0) return;
    drag = { from: i, pointer: e.pointerId, type: e.pointerType };
    keyboard = false;
    lastMark = null;
    caret = i;
    anchor = null;
    select(i, i);
    if (e.pointerType !== "touch") e.preventDefault();
    ws.renderTextOnly();
  }

  function onPointerMove(e) {
    if (!drag || e.pointerId !== drag.pointer) return;
    const i = tokenAt(e.clientX, e.clientY, true);
    if (i < 0) return;
    caret = i;
    select(drag.from, i);
    ws.renderTextOnly();
  }

  function onPointerUp(e) {
    if (!drag || e.pointerId !== drag.pointer) return;
    drag = null;
    if (!selection) return;
    mark(nextRole(), { ...selection }, { byKey: false });
  }

  return {
    textClass: " lb-attr",
    oneKey: false,
    load(own, saved) {
      triples = own ? structuredClone(own.attributions || []) : [];
      draft = emptyDraft();
      focus = -1;
      selection = null;
      anchor = null;
      armed = null;
      keyboard = true;
      fromSuggestion = Boolean(s.task.annotation && s.task.annotation.from_suggestion);
      if (saved) {
        if (saved.triples) triples = saved.triples;
        if (saved.draft) draft = saved.draft;
        if (saved.fromSuggestion) fromSuggestion = true;
      }
      tokens = tokenize(s.sentences);
      words = s.sentences.flatMap((x) => (x.tokens || []).map((t) => x.text.slice(t.start - x.start, t.end - x.start)));
      caret = Math.max(0, tokens.findIndex(([a], i) => a >= sentence().start && isWord(i)));
    },
    draft: () => ({ triples, draft, fromSuggestion }),
    extras: () => ({ from_suggestion: fromSuggestion }),
    value: () => ({ attributions: triples.map((t) => ({ source: t.source, cue: t.cue, content: t.content })) }),
    problem() {
      if (!partial()) return null;
      if (complete()) { addTriple(); return null; }
      return "The triple being built is incomplete: mark its source, cue and content, or press Esc twice to drop it.";
    },
    marks() {
      const marks = tripleAndDraftMarks();
      if (selection) marks.push({ ...selection, cls: "r-sel" });
      else if (tokens[caret] && keyboard) {
        const [a, b] = tokens[caret];
        marks.push({ start: a, end: b, cls: "r-caret" });
      }
      return marks;
    },
    afterRender() {
      const box = ws.$("#lb-text");
      if (box && !box.dataset.pointer) {
        box.dataset.pointer = "1";
        box.addEventListener("pointerdown", onPointerDown);
        box.addEventListener("pointermove", onPointerMove);
        box.addEventListener("pointerup", onPointerUp);
        box.addEventListener("pointercancel", () => { drag = null; });
      }
      const info = ws.$("#lb-selinfo");
      if (!info) return;
      if (selection) info.textContent = `Selected: “${spanText(s.sentences, selection)}” — 1 source, 2 cue, 3 content.`;
      else if (keyboard && tokens[caret]) info.textContent = `Caret on “${text(caret)}”: 1/2/3 mark it; ⇧→ , . " extend.`;
      else info.textContent = `Click or drag words to mark the ${nextRole()}.`;
      for (const b of document.querySelectorAll(".lb-role-btn")) {
        b.setAttribute("aria-pressed", !keyboard && b.dataset.role === nextRole() ? "true" : "false");
      }
    },
    body() {
      const roleButtons = el("div", { class: "lb-roles" },
        ROLES.map((role, i) => el("button", {
          type: "button", class: `lb-btn lb-role-btn ${role}`, "data-role": role,
          onclick: () => { if (!selection && !lastMark) keyboard = false; roleKey(role); },
        }, el("kbd", {}, i + 1), ` ${role}`)),
        el("button", { type: "button", class: "lb-btn", "data-act": "add", onclick: addTriple,
          disabled: !complete() }, el("kbd", {}, "A"), " Add triple"),
        el("span", { id: "lb-selinfo", class: "lb-muted lb-small", role: "status" }),
      );
      const draftRows = el("div", { class: "lb-draft", "data-testid": "draft" },
        ROLES.flatMap((role) => [
          el("span", { class: `role ${role}` }, role),
          el("span", {}, draft[role] ? `“${spanText(s.sentences, draft[role])}”` : el("span", { class: "lb-muted" }, "—")),
          draft[role]
            ? el("button", { type: "button", class: "lb-btn lb-btn-small", onclick: () => { draft[role] = null; changed(); } }, "clear")
            : el("span"),
        ]),
      );
      const rows = triples.map((t, i) => el("tr", {
        class: i === focus ? "focus" : "", "data-testid": "triple",
        onclick: (e) => { if (!e.target.closest("button")) { focus = i; ws.render(); } },
      },
        el("td", {}, el("span", { class: "lb-badge" }, i + 1)),
        ...ROLES.map((role) => el("td", { class: role }, spanText(s.sentences, t[role]))),
        el("td", {},
          el("button", { type: "button", class: "lb-btn lb-btn-small", onclick: () => editTriple(i) }, "edit"),
          el("button", { type: "button", class: "lb-btn lb-btn-small lb-btn-danger", onclick: () => deleteTriple(i) }, "delete")),
      ));
      const table = triples.length
        ? el("table", { class: "lb-triples" },
          el("thead", {}, el("tr", {}, el("th", {}, "#"), ...ROLES.map((r) => el("th", {}, r)), el("th", {}, ""))),
          el("tbody", {}, rows))
        : el("p", { class: "lb-muted" }, "No triples: submitting now records “no attribution in this sentence”.");
      return el("div", {},
        el("div", { class: "lb-legend" },
          ROLES.map((r) => el("span", {}, el("i", { class: `lb-sw ${r}` }), r)),
          el("span", {}, "numbers tell overlapping triples apart")),
        suggestionList(), roleButtons, el("h3", {}, "Triple being built"), draftRows, el("h3", {}, `Triples (${triples.length})`), table);
    },
    handles: (key) => /^[1-3]$/.test(key) || ["a", "A", "y", "Y", "ArrowRight", "ArrowLeft", "Escape", ",", ".", '"', "'", "Delete"].includes(key),
    onKey(e) {
      const key = e.key;
      if (/^[1-3]$/.test(key)) { roleKey(ROLES[Number(key) - 1]); return true; }
      if (key === "a" || key === "A") { addTriple(); return true; }
      if (key === "y" || key === "Y") { acceptSuggestion(); return true; }
      if (key === "ArrowRight" || key === "ArrowLeft") { moveCaret(key === "ArrowRight" ? 1 : -1, e.shiftKey); return true; }
      if (key === ",") { extendTo((i) => CLAUSE_END.test(text(i))); return true; }
      if (key === ".") { extendTo(() => false); return true; }
      if (key === '"' || key === "'") { extendTo((i) => CLOSING_QUOTE.test(text(i))); return true; }
      if (key === "Delete" && focus >= 0) { deleteTriple(focus); return true; }
      if (key === "Escape") {
        if (selection) { selection = null; anchor = null; }
        else { draft = emptyDraft(); armed = null; }
        changed();
        return true;
      }
      return false;
    },
  };
}

/** Adjudication page: draw each annotation's triples on the sentences it touches. */
export function showAdjudication(data, current) {
  for (const a of data.annotations) {
    const box = document.querySelector(`[data-annotation="${a.id}"]`);
    if (!box) continue;
    const triples = (a.value && a.value.attributions) || [];
    const touched = data.context.filter((s) => s.current || triples.some((t) =>
      ROLES.some((r) => t[r] && t[r].start < s.end && s.start < t[r].end)));
    renderText(box, touched, tripleMarks(triples), current && current.id);
  }
}

/** Adjudication page: the marks of a gold value on the context. */
export function goldMarks(gold) {
  return gold ? tripleMarks(gold.attributions || []) : [];
}
