"""The agreement dashboard reads at a glance: counts in cells, a fixed threshold scale
with a legend, runs labelled by number and annotation count, a definition per figure,
and text contrast of at least 4.5:1 in every chart."""

from __future__ import annotations

import pytest

from labeling.agreement_runs.runs import request_agreement_run
from labeling.models import AgreementRun
from tests.browser.conftest import log_in
from tests.browser.policies import axe_problems, boxed_glyphs, csp_violations, watch
from tests.browser.test_page_policies import project  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCALE = """
async () => {
  const c = await import('/static/labeling/charts.js');
  const lum = (s) => {
    const [r, g, b] = s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map((x) => {
      const v = Number(x) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const worst = [];
  for (let i = -20; i <= 100; i++) {
    const bg = c.agreementColor(i / 100);
    const fg = c.textColor(bg) === '#000' ? 'rgb(0,0,0)' : 'rgb(255,255,255)';
    worst.push(ratio(bg, fg));
  }
  const dist = (a, b) => {
    const p = a.match(/\\d+/g).map(Number), q = b.match(/\\d+/g).map(Number);
    return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
  };
  return {
    minContrast: Math.min(...worst),
    anchors: [0, 0.667, 0.8, 1].map((v) => c.agreementColor(v)),
    seventyVsOne: dist(c.agreementColor(0.7), c.agreementColor(1)),
  };
}
"""


def test_dashboard_figures_are_legible(new_page, shot, project) -> None:  # noqa: F811
    lead = project.memberships.get(role="lead").user
    request_agreement_run(project=project, kind="verifiability", user=lead)  # a second run
    runs = list(AgreementRun.objects.filter(project=project, kind="verifiability", status="done"))
    assert len(runs) == 2
    page = new_page()
    console = watch(page)
    log_in(page, "lead")
    page.goto(f"/admin/labeling/project/{project.pk}/agreement/?kind=verifiability")
    page.wait_for_selector("#chart-alpha svg circle.point")
    shot(page, "d01_dashboard_legible")

    # Pairwise heatmap: every off-diagonal cell shows alpha and the shared-item count.
    result = AgreementRun.objects.filter(project=project).order_by("-id").first().result
    shared = sorted(p["n_shared"] for p in result["pairwise"])
    subs = page.locator("#chart-pairs g.cell text.cell-sub").all_text_contents()
    assert sorted(int(t.removeprefix("n=")) for t in subs) == sorted(shared * 2)
    diagonal = page.locator("#chart-pairs g.cell rect[fill='#f3f4f6']").count()
    assert diagonal == 3  # the diagonal is neutral, not the colour of alpha = 1

    # One scale anchored at 0, 0.667, 0.8, 1 with a legend naming the thresholds.
    scale = page.evaluate(SCALE)
    assert scale["anchors"] == [
        "rgb(220, 38, 38)",
        "rgb(251, 191, 36)",
        "rgb(134, 239, 172)",
        "rgb(21, 128, 61)",
    ]
    assert scale["minContrast"] >= 4.5
    assert scale["seventyVsOne"] > 120  # 0.70 and 1.00 are far apart in colour
    legend = page.locator("#chart-pairs .lb-legend-scale")
    assert legend.locator("text.tick").all_text_contents() == ["0", "0.667", "0.8", "1"]
    bands = legend.locator("text.band").all_text_contents()
    assert bands == ["unreliable", "tentative", "reliable"]
    apart = page.evaluate(
        """() => { const t = [...document.querySelectorAll('#chart-pairs .lb-legend-scale text')];
          const boxes = t.map((e) => e.getBBox());
          return boxes.every((a, i) => boxes.every((b, j) => i === j || a.y !== b.y
            || a.x + a.width <= b.x || b.x + b.width <= a.x)); }"""
    )
    assert apart  # no two legend labels overlap

    # Runs: labelled by number and annotation count, the last label inside the figure.
    labels = page.locator("#chart-alpha text.run-label").all_text_contents()
    assert labels == [f"run #{r.pk}" for r in sorted(runs, key=lambda r: r.pk)]
    counts = page.locator("#chart-alpha text.run-count").all_text_contents()
    assert counts == ["15 ann.", "15 ann."]
    inside = page.evaluate(
        """() => { const svg = document.querySelector('#chart-alpha svg');
          const w = svg.viewBox.baseVal.width;
          return [...svg.querySelectorAll('text')].every((t) => {
            const b = t.getBBox(); return b.x >= 0 && b.x + b.width <= w + 0.5; }); }"""
    )
    assert inside

    # A one-line definition under each figure.
    definitions = page.locator("[data-definition]").all_text_contents()
    assert len(definitions) == 4
    assert all(len(d) > 40 for d in definitions)
    assert "0.667" in definitions[0]

    assert csp_violations(page, console) == []
    assert boxed_glyphs(page) == []
    assert axe_problems(page) == []
