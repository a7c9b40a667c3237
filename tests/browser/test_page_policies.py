"""Every page, as the people who use it: no CSP violation, no serious or critical axe finding.

The policy (config/settings.py) allows no inline script, so an inline handler or an
inline <script> on any page shows up here as a ``securitypolicyviolation``. axe-core
(tests/browser/vendor, pinned) audits contrast, names, landmarks and the rest.
"""

from __future__ import annotations

import pytest

from labeling.agreement_runs.runs import request_agreement_run
from labeling.models import Task
from labeling.queue import next_task, submit_annotation
from tests.browser.conftest import log_in
from tests.browser.policies import axe_problems, boxed_glyphs, csp_violations, watch
from tests.factories import add_documents, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "“We will not back down,” the minister said in Geneva on Monday 🇺🇦.\n"
    "Officials met for three hours.\n"
    "The deal covers 1,844 tonnes of grain, according to Reuters.\n"
    "北京 said the talks would resume in May, Zoë noted.\n"
    "Critics called the plan a trap.\n"
    "Markets rose slightly."
)
LABELS = {
    "ann1": ["verifiable", "verifiable", "not_a_claim", "verifiable", "unverifiable"],
    "ann2": ["verifiable", "unverifiable", "not_a_claim", "verifiable", "unverifiable"],
    "ann3": ["verifiable", "unverifiable", "verifiable", "not_a_claim", "not_a_claim"],
}


@pytest.fixture
def project(make_user):
    lead = make_user("lead")
    make_user("boss", is_staff=True, is_superuser=True)
    annotators = [make_user(f"ann{i}") for i in (1, 2, 3)]
    project = make_project(lead=lead, annotators=annotators, overlap=3, name="Wire stories")
    add_documents(project, [TEXT])
    for user in annotators:
        for value in LABELS[user.username]:
            held = next_task(user=user, project=project, kind="verifiability")
            submit_annotation(user=user, task=held.task, value={"label": value})
    request_agreement_run(project=project, kind="verifiability", user=lead)
    return project


def check(page, console, shot, name: str, *, axe: bool = True, ready: str | None = None) -> None:
    if ready:
        page.wait_for_selector(ready, timeout=60_000)  # Redoc renders slowly under load
    shot(page, name, full_page=axe)  # the API docs are very long pages: their first screen
    problems = csp_violations(page, console)
    assert problems == [], f"{name}: CSP violations {problems}"
    if axe:
        assert boxed_glyphs(page) == [], f"{name}: characters drawn as boxes"
        findings = axe_problems(page)
        assert findings == [], f"{name}: axe found\n" + "\n".join(findings)


def test_lead_pages_have_no_csp_violation_and_no_serious_axe_finding(
    new_page, shot, project
) -> None:
    page = new_page()
    console = watch(page)
    log_in(page, "lead")
    check(page, console, shot, "p01_index_lead")
    task = Task.objects.filter(project=project, kind="verifiability").order_by("id").first()
    p = project.pk
    for name, url, ready in (
        (
            "p02_dashboard",
            f"/admin/labeling/project/{p}/agreement/?kind=verifiability",
            "#chart-alpha svg",
        ),
        ("p03_dashboard_no_run", f"/admin/labeling/project/{p}/agreement/?kind=stance", None),
        (
            "p04_adjudicate",
            f"/admin/labeling/task/{task.pk}/adjudicate/",
            "#lb-adjudicate-form[data-ready=true]",
        ),
        ("p05_progress", f"/admin/labeling/project/{p}/progress/", None),
        ("p06_members", f"/admin/labeling/project/{p}/members/", None),
        ("p07_import", f"/admin/labeling/project/{p}/import/", None),
        ("p08_quality", f"/admin/labeling/project/{p}/quality/", None),
        ("p09_project_new", "/admin/labeling/project/new/", None),
        ("p10_annotate_lead", f"/admin/labeling/annotate/?project={p}", None),
        ("p14_disputed", f"/admin/labeling/project/{p}/disputed/?kind=verifiability", None),
    ):
        page.goto(url)
        check(page, console, shot, name, ready=ready)


def test_annotator_workspace_has_no_csp_violation_and_no_serious_axe_finding(
    new_page, shot, project
) -> None:
    page = new_page()
    console = watch(page)
    log_in(page, "ann1")
    check(page, console, shot, "p11_index_annotator")
    for kind, ready in (("verifiability", ".lb-label"), ("attribution", "#lb-text .lb-sent")):
        page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind={kind}")
        check(page, console, shot, f"p12_workspace_{kind}", ready=ready)


def test_staff_changelists_and_docs_have_no_csp_violation(new_page, shot, project) -> None:
    page = new_page()
    console = watch(page)
    page.goto("/admin/login/")
    check(page, console, shot, "p13_login")
    log_in(page, "boss")
    for model in (
        "project",
        "document",
        "sentence",
        "task",
        "assignment",
        "annotation",
        "goldlabel",
        "agreementrun",
        "export",
        "importjob",
        "webhook",
        "webhookdelivery",
    ):
        page.goto(f"/admin/labeling/{model}/")
        check(page, console, shot, f"p20_changelist_{model}")
    page.goto(f"/admin/labeling/project/{project.pk}/change/")
    check(page, console, shot, "p21_project_change")
    page.goto("/admin/auth/user/")
    check(page, console, shot, "p22_changelist_user")
    # Third-party API docs: they must render under the policy; their styles are theirs.
    page.goto("/api/docs/")
    check(page, console, shot, "p23_swagger", axe=False, ready=".swagger-ui .opblock-summary-path")
    page.goto("/api/redoc/")
    check(page, console, shot, "p24_redoc", axe=False, ready="h2 >> text=/next/i")
    response = page.request.get("/favicon.ico")
    assert response.ok
    assert "svg" in response.headers["content-type"]
