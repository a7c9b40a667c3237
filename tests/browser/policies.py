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
