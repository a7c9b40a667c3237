// A span editor for role triples (source, cue, content) over rendered sentences: the
// lead's adjudication page uses it, and it is written so the annotator workspace can
// adopt it (it knows nothing of the page around it: no fetch, no form).
//
// What it edits: a list of complete triples and one triple being built (the draft).
// - Select words with the pointer (mouse, pen or touch: pointer events) or with the
//   keyboard; selections snap to whole tokens (grapheme clusters never split).
// - 1/2/3 put the selection into the draft's source/cue/content; without a selection
//   they pick which draft span the boundary keys move.
// - ←/→ move the focused span's end by one word, Shift+←/→ its start.
// - A adds the draft as a triple; Esc drops the selection, then the draft.
// - take(triple) / takeSpan(role, span) copy any annotator's triple or single span into
//   the draft, so spans of different annotators combine into one triple.
// Offsets are document-level UTF-16 code units (pages read the API with offset_unit=utf16).

import { ROLES, pointOffset, renderText, snap, spanText, tokenize, tripleMarks } from "./spans.js";

const emptyDraft = () => ({ source: null, cue: null, content: null });
const copy = (span) => (span ? { start: span.start, end: span.end } : null);

export class SpanEditor {
  /**
   * container: the element the sentences are drawn in; sentences: [{id, start, end, text}];
   * currentId: the task's sentence; onChange(editor): called after every change.
   */
  constructor({ container, sentences, currentId, onChange = () => {} }) {
    this.container = container;
    this.sentences = sentences;
    this.currentId = currentId;
    this.onChange = onChange;
    this.tokens = tokenize(sentences);
    this.triples = [];
    this.draft = emptyDraft();
    this.focus = null; // the draft role whose boundaries the arrow keys move
    this.selection = null;
    this.message = null; // {cls, text}: cleared by the next change
    this._down = null;
    container.addEventListener("pointerdown", (e) => { this._down = this._at(e); });
    container.addEventListener("pointerup", (e) => this._pointerUp(e));
  }

  // ---------------------------------------------------------------- state
  setTriples(triples) {
    this.triples = (triples || []).map((t) => ({ source: copy(t.source), cue: copy(t.cue), content: copy(t.content) }));
    this.changed();
  }

  value() {
    return this.triples.map((t) => ({ source: copy(t.source), cue: copy(t.cue), content: copy(t.content) }));
  }

  partial() { return ROLES.some((r) => this.draft[r]); }
  complete() { return ROLES.every((r) => this.draft[r]); }

  /** A sentence for the lead when the draft would be lost, or null. */
  problem() {
    if (!this.partial()) return null;
    return "The triple being built is incomplete: give it a source, a cue and a content (or press Esc to drop it).";
  }

  text(span) { return spanText(this.sentences, span); }

  changed(message = null) {
    this.message = message;
    this.render();
    this.onChange(this);
  }

  // ---------------------------------------------------------------- edits
  /** Copy a whole triple (any annotator's) into the draft, to adjust it before adding. */
  take(triple) {
    this.draft = { source: copy(triple.source), cue: copy(triple.cue), content: copy(triple.content) };
    this.focus = "content";
    this.changed({ cls: "info", text: "Triple copied into the one being built: adjust it, then A adds it." });
  }

  /** Copy one span into the draft's ``role`` (combine spans of different annotators). */
  takeSpan(role, span) {
    this.draft[role] = copy(span);
    this.focus = role;
    this.changed();
  }

  mark(role) {
    if (!this.selection) {
      if (!this.draft[role]) {
        this.changed({ cls: "error", text: `Select words first, then press ${ROLES.indexOf(role) + 1} for ${role}.` });
        return;
      }
      this.focus = role; // no selection: choose which span the arrow keys move
      this.changed();
      return;
    }
    this.draft[role] = this.selection;
    this.selection = null;
    this.focus = role;
    this.changed();
  }

  add() {
    if (!this.complete()) {
      this.changed({ cls: "error", text: "A triple needs a source, a cue and a content." });
      return false;
    }
    this.triples.push(this.draft);
    this.draft = emptyDraft();
    this.focus = null;
    this.changed({ cls: "ok", text: `Triple ${this.triples.length} added to the gold value.` });
    return true;
  }

  edit(i) {
    if (this.partial()) {
      this.changed({ cls: "error", text: "Add or drop the triple being built first." });
      return;
    }
    [this.draft] = this.triples.splice(i, 1);
    this.focus = "content";
    this.changed();
  }

  remove(i) {
    this.triples.splice(i, 1);
    this.changed();
  }

  clearRole(role) {
    this.draft[role] = null;
    if (this.focus === role) this.focus = null;
    this.changed();
  }

  /** Move the focused span's ``edge`` ("start" or "end") by ``delta`` words. */
  moveEdge(edge, delta) {
    const span = this.focus && this.draft[this.focus];
    if (!span) {
      this.changed({ cls: "error", text: "Pick a span first: 1 source, 2 cue, 3 content." });
      return;
    }
    const t = this.tokens;
    if (edge === "start") {
      let i = t.findIndex(([a]) => a >= span.start);
      if (i < 0) i = t.length - 1;
      const j = i + delta;
      if (j < 0 || j >= t.length || t[j][0] >= span.end) return;
      span.start = t[j][0];
    } else {
      let i = -1;
      for (let k = 0; k < t.length; k++) if (t[k][1] <= span.end) i = k;
      const j = i + delta;
      if (j < 0 || j >= t.length || t[j][1] <= span.start) return;
      span.end = t[j][1];
    }
    this.changed();
  }

  // ---------------------------------------------------------------- input
  _at(e) {
    const pos = document.caretPositionFromPoint
      ? document.caretPositionFromPoint(e.clientX, e.clientY)
      : null;
    if (pos) return pointOffset(this.container, pos.offsetNode, pos.offset);
    const range = document.caretRangeFromPoint ? document.caretRangeFromPoint(e.clientX, e.clientY) : null;
    return range ? pointOffset(this.container, range.startContainer, range.startOffset) : null;
  }

  _pointerUp(e) {
    // A drag (or a tap on touch screens) selects whole words; the native selection, if
    // any, gives the exact ends on a mouse drag.
    const sel = window.getSelection();
    let a = this._down;
    let b = this._at(e);
    if (sel && sel.rangeCount && !sel.isCollapsed) {
      const r = sel.getRangeAt(0);
      const x = pointOffset(this.container, r.startContainer, r.startOffset);
      const y = pointOffset(this.container, r.endContainer, r.endOffset);
      if (x !== null && y !== null) [a, b] = [x, y];
      sel.removeAllRanges();
    }
    this._down = null;
    if (a === null || b === null) return;
    if (a === b) b = a + 1; // a click or tap: the word under it
    const span = snap(this.tokens, Math.min(a, b), Math.max(a, b));
    if (!span) return;
    this.selection = span;
    this.changed();
  }

  /** Handle a key; true when it was the editor's. */
  onKey(e) {
    const k = e.key;
    if (k === "1" || k === "2" || k === "3") { e.preventDefault(); this.mark(ROLES[Number(k) - 1]); return true; }
    if (k === "a" || k === "A") { e.preventDefault(); this.add(); return true; }
    if (k === "ArrowLeft" || k === "ArrowRight") {
      e.preventDefault();
      this.moveEdge(e.shiftKey ? "start" : "end", k === "ArrowRight" ? 1 : -1);
      return true;
    }
    if (k === "Escape") {
      e.preventDefault();
      if (this.selection) this.selection = null;
      else { this.draft = emptyDraft(); this.focus = null; }
      this.changed();
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- drawing
  marks() {
    const marks = tripleMarks(this.triples);
    for (const role of ROLES) {
      const span = this.draft[role];
      if (span) marks.push({ ...span, cls: `r-${role} r-draft` + (role === this.focus ? " r-focus r-edge" : "") });
    }
    if (this.selection) marks.push({ ...this.selection, cls: "r-sel" });
    return marks;
  }

  render() {
    renderText(this.container, this.sentences, this.marks(), this.currentId);
  }
}
