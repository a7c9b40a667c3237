"""Agreement, review, gold and export endpoints × every role: exact codes, no leaks.

Annotators must learn neither agreement figures nor other annotators' work: their own
project's review endpoints answer 403, other projects' 404 (missing and not-yours alike).
"""

from __future__ import annotations

import pytest
from django.test import TestCase

from labeling.agreement_runs.runs import request_agreement_run
from labeling.api import agreement_urls
from labeling.api import export_urls as export_urls
from labeling.api import gold_urls as review_urls
from labeling.exporting.job import start_export
from labeling.exporting.params import parse_export_params
from labeling.review.gold_jobs import start_gold_job
from tests import test_authorization_matrix as core
from tests.test_authorization_matrix import ROLES, Case, Ctx, P, codes

pytestmark = pytest.mark.django_db
ctx = core.ctx  # the same world and objects as the core matrix

LEAD_ONLY = codes(401, 403, 404, 200, 404, 200)


def _run(c: Ctx) -> int:
    with TestCase.captureOnCommitCallbacks(execute=True):  # the job runs (eagerly)
        return request_agreement_run(project=c.w.project, kind="verifiability", user=c.w.lead).pk


def _export(c: Ctx) -> int:
    fmt, options = parse_export_params(c.w.project, {"format": "jsonl"})
    with TestCase.captureOnCommitCallbacks(execute=True):  # the file is written
        return start_export(project=c.w.project, fmt=fmt, options=options, user=c.w.lead).pk


def _gold_job(c: Ctx) -> int:
    with TestCase.captureOnCommitCallbacks(execute=True):  # the job runs (eagerly)
        return start_gold_job(
            project=c.w.project, operation="aggregate", kind="verifiability", user=c.w.lead
        ).pk


CASES = [
    Case(
        "agreement-run-start",
        "post",
        lambda c: f"/api/projects/{P(c)}/agreement-runs/",
        codes(401, 403, 404, 202, 404, 202),
        lambda c: {"kind": "verifiability"},
    ),
    Case(
        "agreement-run-history", "get", lambda c: f"/api/projects/{P(c)}/agreement-runs/", LEAD_ONLY
    ),
    Case("agreement-run-detail", "get", lambda c: f"/api/agreement-runs/{_run(c)}/", LEAD_ONLY),
    Case(
        "agreement-run-documents",
        "get",
        lambda c: f"/api/agreement-runs/{_run(c)}/documents/",
        LEAD_ONLY,
    ),
    Case(
        "agreement-run-document",
        "get",
        lambda c: (
            f"/api/agreement-runs/{_run(c)}/documents/{c.foreign_annotation.task.sentence.document_id}/"
        ),
        LEAD_ONLY,
    ),
    Case(
        "disputed",
        "get",
        lambda c: f"/api/projects/{P(c)}/disputed/?kind=verifiability",
        LEAD_ONLY,
    ),
    Case("export-stream", "get", lambda c: f"/api/projects/{P(c)}/export/?format=jsonl", LEAD_ONLY),
    Case("exports-list", "get", lambda c: f"/api/projects/{P(c)}/exports/", LEAD_ONLY),
    Case(
        "exports-start",
        "post",
        lambda c: f"/api/projects/{P(c)}/exports/",
        codes(401, 403, 404, 202, 404, 202),
        lambda c: {"format": "csv"},
    ),
    Case("export-detail", "get", lambda c: f"/api/exports/{_export(c)}/", LEAD_ONLY),
    Case("export-download", "get", lambda c: f"/api/exports/{_export(c)}/download/", LEAD_ONLY),
    Case(
        "gold-aggregate",
        "post",
        lambda c: f"/api/projects/{P(c)}/gold/aggregate/",
        codes(401, 403, 404, 202, 404, 202),
        lambda c: {"kind": "verifiability", "method": "majority"},
    ),
    Case(
        "gold-put",
        "put",
        lambda c: f"/api/tasks/{c.own_task}/gold/",
        LEAD_ONLY,
        lambda c: {"value": {"label": "verifiable"}},
    ),
    Case(
        "gold-get",
        "get",
        lambda c: f"/api/tasks/{c.own_task}/gold/",
        codes(401, 403, 404, 404, 404, 404),  # no gold yet: leads learn exactly that
    ),
    Case(
        "gold-delete",
        "delete",
        lambda c: f"/api/tasks/{c.own_task}/gold/",
        codes(401, 403, 404, 204, 404, 204),
    ),
    Case(
        "annotator-accuracy",
        "post",
        lambda c: f"/api/projects/{P(c)}/annotator-accuracy/",
        codes(401, 403, 404, 202, 404, 202),
        lambda c: {"kind": "verifiability"},
    ),
    Case(
        "gold-status",
        "get",
        lambda c: f"/api/projects/{P(c)}/gold/status/?kind=verifiability",
        LEAD_ONLY,
    ),
    Case(
        "gold-reaggregate",
        "post",
        lambda c: f"/api/projects/{P(c)}/gold/reaggregate/",
        codes(401, 403, 404, 202, 404, 202),
        lambda c: {"kind": "verifiability"},
    ),
    Case("gold-job-detail", "get", lambda c: f"/api/gold-jobs/{_gold_job(c)}/", LEAD_ONLY),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_review_endpoint_answers_role_with_exact_status(ctx: Ctx, case: Case, role: str) -> None:
    core.check_case(ctx, case, role)


def test_every_review_route_is_in_the_matrix() -> None:
    covered = {
        "project-agreement-runs", "agreement-run", "project-disputed", "export",
        "project-exports", "export-detail", "export-download", "gold-aggregate", "task-gold",
        "annotator-accuracy", "gold-job", "agreement-run-documents", "agreement-run-document",
        "gold-status", "gold-reaggregate",
    }  # fmt: skip
    names = {
        p.name
        for p in agreement_urls.urlpatterns + export_urls.urlpatterns + review_urls.urlpatterns
    }
    assert names == covered
