"""Quality-control endpoints × every role: exact codes, and no foreign annotation leaks.

Reports, controls, assignments and settings are leads' business: the project's annotators
get 403, outsiders 404 (missing and not-yours alike).
"""

from __future__ import annotations

import pytest

from labeling.api import quality_urls as quality_urls
from labeling.quality.controls import ControlSpec, set_controls
from tests import test_authorization_matrix as core
from tests.test_authorization_matrix import ROLES, Case, Ctx, P, codes

pytestmark = pytest.mark.django_db
ctx = core.ctx  # the same world and objects as the core matrix

LEAD_ONLY = codes(401, 403, 404, 200, 404, 200)
LEAD_CREATES = codes(401, 403, 404, 201, 404, 201)
LEAD_DELETES = codes(401, 403, 404, 204, 404, 204)


def _control(c: Ctx) -> int:
    spec = ControlSpec(c.fresh_task, {"label": "verifiable"})
    return set_controls(project=c.w.project, specs=[spec], user=c.w.lead)[0].pk


CASES = [
    Case("controls-list", "get", lambda c: f"/api/projects/{P(c)}/controls/", LEAD_ONLY),
    Case(
        "controls-set",
        "post",
        lambda c: f"/api/projects/{P(c)}/controls/",
        LEAD_CREATES,
        lambda c: [{"task": c.fresh_task, "value": {"label": "verifiable"}}],
    ),
    Case(
        "control-delete",
        "delete",
        lambda c: f"/api/projects/{P(c)}/controls/{_control(c)}/",
        LEAD_DELETES,
    ),
    Case("annotators", "get", lambda c: f"/api/projects/{P(c)}/annotators/", LEAD_ONLY),
    Case(
        "annotator-patch",
        "patch",
        lambda c: f"/api/projects/{P(c)}/annotators/{c.w.annotator2.pk}/",
        LEAD_ONLY,
        lambda c: {"quota_total": 5},
    ),
    Case("assignments-list", "get", lambda c: f"/api/projects/{P(c)}/assignments/", LEAD_ONLY),
    Case(
        "assignments-reserve",
        "post",
        lambda c: f"/api/projects/{P(c)}/assignments/",
        LEAD_CREATES,
        lambda c: {"username": c.w.annotator2.username, "documents": c.w.document_ids},
    ),
    Case(
        "assignments-release",
        "delete",
        lambda c: f"/api/projects/{P(c)}/assignments/{c.w.annotator2.pk}/",
        LEAD_DELETES,
    ),
    Case("escalations", "get", lambda c: f"/api/projects/{P(c)}/escalations/", LEAD_ONLY),
    Case("priorities-list", "get", lambda c: f"/api/projects/{P(c)}/priorities/", LEAD_ONLY),
    Case(
        "priorities-set",
        "put",
        lambda c: f"/api/projects/{P(c)}/priorities/",
        LEAD_ONLY,
        lambda c: [{"document": c.w.document_ids[0], "priority": 5}],
    ),
    Case("quality-get", "get", lambda c: f"/api/projects/{P(c)}/quality/", LEAD_ONLY),
    Case(
        "quality-patch",
        "patch",
        lambda c: f"/api/projects/{P(c)}/quality/",
        LEAD_ONLY,
        lambda c: {"control_rate": 0.1},
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_quality_endpoint_answers_role_with_exact_status(ctx: Ctx, case: Case, role: str) -> None:
    core.check_case(ctx, case, role)


def test_every_quality_route_is_in_the_matrix() -> None:
    covered = {
        "controls", "control", "annotators", "annotator", "assignments", "assignment",
        "quality-settings", "escalations", "priorities",
    }  # fmt: skip
    assert {p.name for p in quality_urls.urlpatterns} == covered


def test_annotator_report_does_not_reveal_values_to_leads_of_other_projects(ctx: Ctx) -> None:
    response = core.client_for(ctx.w.other_lead).get(f"/api/projects/{P(ctx)}/annotators/")
    assert response.status_code == 404
