// Sentences in context with attribution roles drawn on them; word tokens for snapping.
// Offsets are document-level and half-open, in UTF-16 code units as JavaScript strings
// count them: pages ask the API with offset_unit=utf16 (the API's default unit is the
// Unicode code point). Tokens are the server tokenizer's (each sentence's ``tokens`` in the
// task payload and the document context), so the page snaps to the same words the
// exports' BIO tags use and never splits 🇺🇦, 👩‍💻 or e + U+0301.

export const ROLES = ["source", "cue", "content"];

/** Word tokens [start, end) of the sentences, in document offsets, in order. */
export function tokenize(sentences) {
  const tokens = [];
  for (const s of sentences) for (const t of s.tokens || []) tokens.push([t.start, t.end]);
  return tokens;
}

/** Grow [start, end) to whole tokens; null when it covers none. */
export function snap(tokens, start, end) {
  if (end < start) [start, end] = [end, start];
  const inside = tokens.filter(([a, b]) => a < end && start < b);
  if (!inside.length) return null;
  return { start: inside[0][0], end: inside[inside.length - 1][1] };
}

/** The text of [start, end) from the visible sentences (gaps become one space). */
export function spanText(sentences, span) {
  if (!span) return "";
  const parts = [];
  for (const s of sentences) {
    const a = Math.max(span.start, s.start);
    const b = Math.min(span.end, s.end);
    if (a < b) parts.push(s.text.slice(a - s.start, b - s.start));
  }
  return parts.join(" ") || `[${span.start}–${span.end}]`;
}

/**
 * Render sentences into `container`, each character range tagged with the roles that
 * cover it. `marks` is a list of {start, end, cls}; classes on a segment combine, so
 * overlapping roles stay visible (background, underline and outline are separate).
 */
const BREAKS = { paragraph: "\n\n", line: "\n", space: " ", none: "" };

export function renderText(container, sentences, marks, currentId) {
  container.textContent = "";
  sentences.forEach((s, i) => {
    if (i > 0) {
      // The API says what separated the sentences: paragraphs and line breaks are kept.
      const gap = BREAKS[s.break_before] ?? (s.start > sentences[i - 1].end ? " " : "");
      const skipped = s.position !== undefined && sentences[i - 1].position !== undefined
        && s.position - sentences[i - 1].position > 1;
      container.append(document.createTextNode(skipped ? " … " : gap));
    }
    const sent = document.createElement("span");
    sent.className = "lb-sent" + (s.id === currentId ? " current" : "");
    if (s.id === currentId) sent.setAttribute("aria-current", "true");
    sent.dataset.start = s.start;
    sent.dataset.id = s.id;
    const cuts = new Set([s.start, s.end]);
    for (const m of marks) {
      if (m.start > s.start && m.start < s.end) cuts.add(m.start);
      if (m.end > s.start && m.end < s.end) cuts.add(m.end);
    }
    const points = [...cuts].sort((a, b) => a - b);
    for (let j = 0; j + 1 < points.length; j++) {
      const a = points[j];
      const b = points[j + 1];
      const classes = new Set();
      for (const m of marks) if (m.start <= a && b <= m.end) m.cls.split(" ").forEach((c) => classes.add(c));
      const text = s.text.slice(a - s.start, b - s.start);
      if (!classes.size) {
        const plain = document.createElement("span");
        plain.dataset.start = a;
        plain.textContent = text;
        sent.append(plain);
        continue;
      }
      const seg = document.createElement("span");
      seg.className = "lb-seg " + [...classes].join(" ");
      seg.dataset.start = a;
      seg.textContent = text;
      // Numbered badges where a triple's span starts: overlapping triples stay distinct.
      const badges = marks.filter((m) => m.badge && m.start === a);
      for (const m of badges) {
        const b = document.createElement("sup");
        b.className = `lb-badge r-${m.role}`;
        b.textContent = m.badge;
        b.setAttribute("aria-hidden", "true");
        sent.append(b);
      }
      sent.append(seg);
    }
    container.append(sent);
  });
}

/** Document offset of a DOM (node, offset) point inside a rendered text, or null. */
export function pointOffset(container, node, offset) {
  let el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
  if (!el || !container.contains(el)) return null;
  const badge = el.closest && el.closest(".lb-badge");
  if (badge) return badge.nextElementSibling ? Number(badge.nextElementSibling.dataset.start) : null;
  if (node.nodeType !== Node.TEXT_NODE) {
    // A point between children: use the child at `offset` (or the end of the last one).
    const child = node.childNodes[offset] || null;
    if (child && child.nodeType === Node.ELEMENT_NODE && child.dataset.start) {
      return Number(child.dataset.start);
    }
    const last = node.childNodes[offset - 1];
    if (last && last.nodeType === Node.ELEMENT_NODE && last.dataset.start) {
      return Number(last.dataset.start) + last.textContent.length;
    }
    return null;
  }
  while (el && el !== container && el.dataset.start === undefined) el = el.parentElement;
  if (!el || el === container) return null;
  return Number(el.dataset.start) + offset;
}

/** Marks for a list of triples: one mark per role span, classes r-<role>, numbered. */
export function tripleMarks(triples, focusIndex = -1) {
  const marks = [];
  triples.forEach((t, i) => {
    for (const role of ROLES) {
      if (t[role]) {
        marks.push({
          start: t[role].start, end: t[role].end, role, badge: String(i + 1),
          cls: `r-${role} t-${i % 4}` + (i === focusIndex ? " r-focus" : ""),
        });
      }
    }
  });
  return marks;
}
