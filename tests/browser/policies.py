"""Checks every page of the browser tests can run: CSP violations and axe-core's audit.

``watch(page)`` records Content-Security-Policy violations (the ``securitypolicyviolation``
event, from an init script that the policy cannot block, and the console's "Refused to …"
errors). ``axe_problems(page)`` runs axe-core 4.14.1 (vendored, pinned, never from a CDN;
see vendor/axe-core/package.json) and returns its serious and critical violations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  const what = e.blockedURI || 'inline';
  window.__cspViolations.push(`${e.violatedDirective} blocked ${what} at ${where}`);
});
"""


def watch(page: Any) -> list[str]:
    """Start recording CSP violations of ``page`` (call before its first goto)."""
    console: list[str] = []
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return console


def csp_violations(page: Any, console: list[str]) -> list[str]:
    """Violations seen on the page now displayed, and every console report so far."""
    return list(page.evaluate("window.__cspViolations || []")) + console


def axe_problems(page: Any, *, exclude: list[str] | None = None) -> list[str]:
    """axe-core's serious and critical violations on the current page, one line each.

    axe is evaluated through the DevTools protocol, which the page's CSP does not govern
    (an injected <script> element would be refused, as it should be).
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async (exclude) => {
          const context = {exclude: exclude.map((s) => [s])};
          const r = await axe.run(context, {resultTypes: ['violations']});
          return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => `${v.impact} ${v.id}: ${v.help} — ` + v.nodes.slice(0, 4).map(
              (n) => n.target.join(' ') + (n.any[0] ? ` (${n.any[0].message})` : '')).join('; '));
        }""",
        exclude or [],
    )
    return list(result)


BOXES = r"""
() => {
  // Draw each distinct non-ASCII character in its element's font and compare the
  // pixels with a code point no font has (drawn as the missing-glyph box).
  const canvas = document.createElement('canvas');
  canvas.width = 48; canvas.height = 48;
  const g = canvas.getContext('2d', {willReadFrequently: true});
  const draw = (font, text) => {
    g.clearRect(0, 0, 48, 48); g.font = font; g.textBaseline = 'top'; g.fillStyle = '#000';
    g.fillText(text, 4, 4);
    return g.getImageData(0, 0, 48, 48).data.join(',');
  };
  const seen = new Map();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const segmenter = new Intl.Segmenter(undefined, {granularity: 'grapheme'});
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    const font = `${style.fontStyle} ${style.fontWeight} 20px ${style.fontFamily}`;
    for (const {segment} of segmenter.segment(node.data)) {
      if (/^[\x00-\x7f\s]*$/.test(segment) || /^\p{M}/u.test(segment)) continue;
      if (!seen.has(segment)) seen.set(segment, font);
    }
  }
  const boxed = [];
  for (const [ch, font] of seen) {
    const box = draw(font, '\u{10FFFD}');
    const cps = [...ch].filter((c) => !/\p{M}|\u200d|\ufe0f/u.test(c));
    if (cps.some((c) => draw(font, c) === box)) boxed.push(ch);
  }
  return boxed;
}
"""


def boxed_glyphs(page: Any) -> list[str]:
    """Characters shown on the page that no installed font draws (they show as boxes)."""
    return list(page.evaluate(BOXES))
