// Workspace widget of attribution: mark source, cue and content spans of triples.
//
// Keys: 1 source, 2 cue, 3 content for the selected words, A adds the triple, Y accepts the
// next suggested triple (task.suggestions), Esc clears the selection (then the triple
// being built), ←/→ move the word cursor and Shift+←/→ select words with the keyboard.
// Offsets are document-level UTF-16 code units.

import { el } from "../api.js";
import { ROLES, pointOffset, renderText, snap, spanText, tokenize, tripleMarks } from "../spans.js";

const emptyDraft = () => ({ source: null, cue: null, content: null });

export function create(ws) {
  const s = ws.state;
  let triples = [];
  let draft = emptyDraft();
  let focus = -1;
  let selection = null; // {start, end} snapped, document offsets
  let caret = 0; // index into tokens for keyboard selection
  let anchor = null;
  let tokens = [];
  let fromSuggestion = false; // the value started from a suggested triple (sent with the PUT)

  const partial = () => ROLES.some((r) => draft[r]);
  const complete = () => ROLES.every((r) => draft[r]);

  function addTriple() {
    if (!complete()) {
      ws.flash("error", "A triple needs a source, a cue and a content.");
      return;
    }
    triples.push({ ...draft });
    draft = emptyDraft();
    focus = triples.length - 1;
    ws.saveDraft();
    ws.render();
  }

  function markRole(role) {
    if (!selection) {
      ws.flash("error", "Select some words first (drag with the mouse, or Shift+→).");
      return;
    }
    const span = { ...selection };
    if (role === "cue") {
      const sentence = s.task.sentence;
      if (span.start < sentence.start || span.end > sentence.end) {
        ws.flash("error", "The cue must lie inside the highlighted sentence.");
        return;
      }
    }
    draft[role] = span;
    selection = null;
    window.getSelection().removeAllRanges();
    if (complete()) addTriple();
    ws.saveDraft();
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
    ws.saveDraft();
    ws.render();
  }

  function deleteTriple(i) {
    triples.splice(i, 1);
    focus = -1;
    ws.saveDraft();
    ws.render();
  }

  function tripleAndDraftMarks() {
    const marks = tripleMarks(triples, focus);
    for (const role of ROLES) {
      if (draft[role]) marks.push({ ...draft[role], cls: `r-${role} r-draft` });
    }
    return marks;
  }

  function selectionFromDom() {
    const text = ws.$("#lb-text");
    const sel = window.getSelection();
    if (!text || !sel.rangeCount || sel.isCollapsed) return;
    const range = sel.getRangeAt(0);
    const a = pointOffset(text, range.startContainer, range.startOffset);
    const b = pointOffset(text, range.endContainer, range.endOffset);
    if (a === null || b === null) return;
    const span = snap(tokens, a, b);
    if (!span) return;
    selection = span;
    caret = tokens.findIndex(([x]) => x === span.start);
    anchor = caret;
    // Keep the native selection invisible: the snapped selection is drawn instead.
    sel.removeAllRanges();
    ws.renderTextOnly();
  }

  function moveCaret(delta, extend) {
    const n = tokens.length;
    if (!n) return;
    if (extend && anchor === null) anchor = caret;
    if (!extend) anchor = null;
    caret = Math.min(n - 1, Math.max(0, caret + delta));
    if (extend) {
      const i = Math.min(anchor, caret);
      const j = Math.max(anchor, caret);
      selection = { start: tokens[i][0], end: tokens[j][1] };
    } else {
      selection = null;
    }
    ws.renderTextOnly();
  }

  return {
    textClass: " lb-attr",
    load(own, saved) {
      triples = own ? structuredClone(own.attributions || []) : [];
      draft = emptyDraft();
      focus = -1;
      selection = null;
      anchor = null;
      fromSuggestion = Boolean(s.task.annotation && s.task.annotation.from_suggestion);
      if (saved) {
        if (saved.triples) triples = saved.triples;
        if (saved.draft) draft = saved.draft;
        if (saved.fromSuggestion) fromSuggestion = true;
      }
      tokens = tokenize(s.sentences);
      caret = Math.max(0, tokens.findIndex(([a]) => a >= s.task.sentence.start));
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
      else if (tokens[caret] && anchor !== null) {
        const [a, b] = tokens[caret];
        marks.push({ start: a, end: b, cls: "r-caret" });
      }
      return marks;
    },
    afterRender() {
      const info = ws.$("#lb-selinfo");
      if (!info) return;
      info.textContent = selection
        ? `Selected: “${spanText(s.sentences, selection)}” — mark it as 1 source, 2 cue or 3 content.`
        : "Select words with the mouse (or Shift+→), then mark them.";
    },
    body() {
      const roleButtons = el("div", { class: "lb-roles" },
        ROLES.map((role, i) => el("button", {
          type: "button", class: `lb-btn lb-role-btn ${role}`, "data-role": role, onclick: () => markRole(role),
        }, el("kbd", {}, i + 1), ` ${role}`)),
        el("button", { type: "button", class: "lb-btn", "data-act": "add", onclick: addTriple,
          disabled: !complete() }, el("kbd", {}, "A"), " Add triple"),
        el("span", { id: "lb-selinfo", class: "lb-muted lb-small" }),
      );
      const draftRows = el("div", { class: "lb-draft", "data-testid": "draft" },
        ROLES.flatMap((role) => [
          el("span", { class: `role ${role}` }, role),
          el("span", {}, draft[role] ? `“${spanText(s.sentences, draft[role])}”` : el("span", { class: "lb-muted" }, "—")),
          draft[role]
            ? el("button", { type: "button", class: "lb-btn lb-btn-small", onclick: () => { draft[role] = null; ws.saveDraft(); ws.render(); } }, "clear")
            : el("span"),
        ]),
      );
      const rows = triples.map((t, i) => el("tr", { class: i === focus ? "focus" : "", "data-testid": "triple" },
        el("td", {}, i + 1),
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
          el("span", {}, "overlapping roles combine: background, outline and underline")),
        suggestionList(), roleButtons, el("h3", {}, "Triple being built"), draftRows, el("h3", {}, `Triples (${triples.length})`), table);
    },
    onKey(e) {
      const key = e.key;
      if (/^[1-9]$/.test(key)) {
        e.preventDefault();
        const i = Number(key) - 1;
        if (i < ROLES.length) markRole(ROLES[i]);
        return true;
      }
      if (key === "a" || key === "A") { e.preventDefault(); addTriple(); return true; }
      if (key === "y" || key === "Y") { e.preventDefault(); acceptSuggestion(); return true; }
      if (key === "ArrowRight" || key === "ArrowLeft") {
        e.preventDefault();
        moveCaret(key === "ArrowRight" ? 1 : -1, e.shiftKey);
        return true;
      }
      if (key === "Escape") {
        e.preventDefault();
        if (selection) { selection = null; anchor = null; }
        else { draft = emptyDraft(); ws.saveDraft(); }
        ws.render();
        return true;
      }
      return false;
    },
    onMouseUp(e) {
      if (e.target.closest("#lb-text")) selectionFromDom();
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
