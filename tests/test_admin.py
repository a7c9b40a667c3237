"""The web admin: who gets in, what each role sees through every URL, constant-query lists."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labeling.agreement_runs.runs import request_agreement_run
from labeling.models import (
    AgreementRun,
    Annotation,
    Assignment,
    Document,
    GoldLabel,
    ImportJob,
    Project,
    Sentence,
    Task,
)
from labeling.queue import next_task, skip_task, submit_annotation
from tests.factories import SAMPLE_TEXT, add_documents, make_project

pytestmark = pytest.mark.django_db

MODELS = [
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
]


def label(user, project: Project, kind: str, value: dict) -> Annotation:
    """Lease the user's next task of ``kind`` and submit ``value`` for it."""
    assignment = next_task(user=user, project=project, kind=kind)
    assert assignment is not None
    return submit_annotation(user=user, task=assignment.task, value=value).annotation


@pytest.fixture
def world(make_user):
    """Two projects: ann1 and ann2 annotate P; ann3 annotates Q led by someone else."""
    lead, other_lead = make_user("lead"), make_user("other_lead")
    ann1, ann2, ann3 = make_user("ann1"), make_user("ann2"), make_user("ann3")
    staff = make_user("staff", is_staff=True, is_superuser=True)
    outsider = make_user("outsider")
    p = make_project(lead=lead, annotators=[ann1, ann2], overlap=2, name="P")
    q = make_project(lead=other_lead, annotators=[ann3], overlap=2, name="Q")
    add_documents(p)
    add_documents(q, [SAMPLE_TEXT + " Extra sentence for Q."])
    for user, labels in (
        (ann1, ["verifiable", "unverifiable"]),
        (ann2, ["unverifiable", "verifiable"]),
    ):
        for value in labels:
            label(user, p, "verifiability", {"label": value})
    label(ann3, q, "verifiability", {"label": "not_a_claim"})
    return {
        "lead": lead,
        "other_lead": other_lead,
        "ann1": ann1,
        "ann2": ann2,
        "ann3": ann3,
        "staff": staff,
        "outsider": outsider,
        "p": p,
        "q": q,
    }


def login(client, user) -> None:
    client.force_login(user)


def test_the_admin_site_is_the_labeling_site() -> None:
    from labeling.admin.site import LabelingAdminSite

    assert isinstance(admin.site, LabelingAdminSite)


def test_annotators_and_leads_log_in_without_is_staff_outsiders_do_not(client, world) -> None:
    for name in ("ann1", "lead", "staff"):
        client.force_login(world[name])
        assert client.get("/admin/").status_code == 200, name
    client.force_login(world["outsider"])
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_annotator_logs_in_with_the_login_form(client, world) -> None:
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "ann1", "password": "pw-ann1"}, follow=True
    )
    assert response.status_code == 200
    assert response.context["user"].username == "ann1"
    assert b"Annotate sentences" in response.content


def _admin_urls_for(obj_model: str, pk: int) -> list[str]:
    base = f"/admin/labeling/{obj_model}/{pk}"
    return [f"{base}/change/", f"{base}/history/", f"{base}/delete/"]


def test_annotator_never_reaches_another_annotators_work_through_any_admin_url(
    client, world
) -> None:
    ann1, ann2 = world["ann1"], world["ann2"]
    login(client, ann1)
    theirs = list(Annotation.objects.exclude(annotator=ann1))
    assert theirs
    for annotation in theirs:
        for url in _admin_urls_for("annotation", annotation.pk):
            response = client.get(url)
            assert response.status_code in (302, 403, 404), url
            if response.status_code == 302:
                assert response["Location"] in ("/admin/", "/admin/login/?next=" + url), url
    for assignment in Assignment.objects.exclude(annotator=ann1):
        for url in _admin_urls_for("assignment", assignment.pk):
            assert client.get(url).status_code in (302, 403, 404), url
    own_tasks = set(Assignment.objects.filter(annotator=ann1).values_list("task_id", flat=True))
    for task in Task.objects.exclude(pk__in=own_tasks)[:20]:
        assert client.get(f"/admin/labeling/task/{task.pk}/change/").status_code in (302, 403, 404)
    # Change lists show only ann1's rows and never ann2's name or labels.
    for model in MODELS:
        response = client.get(f"/admin/labeling/{model}/")
        assert response.status_code in (200, 403), model
        if response.status_code == 200:
            assert b"ann2" not in response.content, model
            assert b"ann3" not in response.content, model
    listing = client.get("/admin/labeling/annotation/")
    ids = {
        int(x) for x in re.findall(rb"/admin/labeling/annotation/(\d+)/change/", listing.content)
    }
    assert ids == set(Annotation.objects.filter(annotator=ann1).values_list("pk", flat=True))
    # Filters by another annotator's id give nothing either.
    response = client.get(f"/admin/labeling/annotation/?annotator__id__exact={ann2.pk}")
    assert b"ann2" not in response.content
    # Own annotation: visible, read-only.
    own = Annotation.objects.filter(annotator=ann1).first()
    response = client.get(f"/admin/labeling/annotation/{own.pk}/change/")
    assert response.status_code == 200
    assert b'name="_save"' not in response.content


def test_annotator_sees_no_gold_agreement_or_lead_pages(client, world) -> None:
    p = world["p"]
    run = request_agreement_run(project=p, kind="verifiability", user=world["lead"])
    login(client, world["ann1"])
    for model in ("goldlabel", "agreementrun", "importjob", "export", "document", "sentence"):
        assert client.get(f"/admin/labeling/{model}/").status_code == 403, model
    assert client.get(f"/admin/labeling/agreementrun/{run.pk}/change/").status_code in (302, 403)
    task = Annotation.objects.filter(annotator=world["ann1"]).first().task
    untouched = Task.objects.filter(project=p).exclude(assignments__annotator=world["ann1"]).first()
    # A task an annotator was never given does not exist for them.
    assert client.get(reverse("admin:labeling_adjudicate", args=[untouched.pk])).status_code == 404
    for url in (
        reverse("admin:labeling_agreement", args=[p.pk]),
        reverse("admin:labeling_progress", args=[p.pk]),
        reverse("admin:labeling_import", args=[p.pk]),
        reverse("admin:labeling_members", args=[p.pk]),
        reverse("admin:labeling_adjudicate", args=[task.pk]),
        reverse("admin:labeling_project_create"),
    ):
        # A member lacking the role: 403, as the API answers (labeling.access).
        assert client.get(url).status_code == 403, url
    index = client.get("/admin/")
    assert b"Agreement runs" not in index.content
    assert b"Gold labels" not in index.content


def test_annotator_sees_only_their_projects_and_the_project_without_members(client, world) -> None:
    login(client, world["ann1"])
    response = client.get("/admin/labeling/project/")
    assert b">P<" in response.content
    assert b">Q<" not in response.content
    assert client.get(f"/admin/labeling/project/{world['q'].pk}/change/").status_code == 302
    page = client.get(f"/admin/labeling/project/{world['p'].pk}/change/")
    assert page.status_code == 200
    assert b"ann2" not in page.content  # no member list for annotators


def test_lead_sees_everything_of_their_project_and_nothing_of_another(client, world) -> None:
    login(client, world["lead"])
    p_annotations = Annotation.objects.filter(task__project=world["p"])
    listing = client.get("/admin/labeling/annotation/")
    ids = {
        int(x) for x in re.findall(rb"/admin/labeling/annotation/(\d+)/change/", listing.content)
    }
    assert ids == set(p_annotations.values_list("pk", flat=True))
    q_annotation = Annotation.objects.get(task__project=world["q"])
    assert client.get(f"/admin/labeling/annotation/{q_annotation.pk}/change/").status_code == 302
    q_doc = Document.objects.get(project=world["q"])
    assert client.get(f"/admin/labeling/document/{q_doc.pk}/change/").status_code == 302
    p_doc = Document.objects.get(project=world["p"])
    page = client.get(f"/admin/labeling/document/{p_doc.pk}/change/")
    assert page.status_code == 200
    assert Sentence.objects.filter(document=p_doc).first().text[:20].encode() in page.content
    assert client.get(reverse("admin:labeling_agreement", args=[world["q"].pk])).status_code == 404


def test_staff_see_every_project(client, world) -> None:
    login(client, world["staff"])
    listing = client.get("/admin/labeling/annotation/")
    ids = {
        int(x) for x in re.findall(rb"/admin/labeling/annotation/(\d+)/change/", listing.content)
    }
    assert ids == set(Annotation.objects.values_list("pk", flat=True))


def test_document_search_and_filters(client, world) -> None:
    login(client, world["lead"])
    response = client.get("/admin/labeling/document/?q=Geneva")
    assert response.status_code == 200
    assert b"Doc 0" in response.content
    assert b"Doc 0" not in client.get("/admin/labeling/document/?q=zzznothing").content
    response = client.get(
        f"/admin/labeling/task/?kind__exact=stance&project__id__exact={world['p'].pk}"
    )
    assert response.status_code == 200
    assert b"Ukrainian government" in response.content
    response = client.get("/admin/labeling/task/?q=tonnes")
    assert b"1,844 tonnes" in response.content


@pytest.mark.parametrize("model", MODELS)
def test_change_lists_run_a_constant_number_of_queries(client, make_user, model) -> None:
    lead = make_user("lead")
    anns = [make_user(f"a{i}") for i in range(3)]
    project = make_project(lead=lead, annotators=anns, overlap=3)

    def grow(n_docs: int) -> None:
        add_documents(project, [f"{SAMPLE_TEXT} Batch {n_docs} number {i}." for i in range(n_docs)])
        for user in anns:
            for _ in range(3):
                assignment = next_task(user=user, project=project, kind="verifiability")
                if assignment:
                    submit_annotation(
                        user=user, task=assignment.task, value={"label": "verifiable"}
                    )
        GoldLabel.objects.get_or_create(
            task=Task.objects.filter(project=project).exclude(gold__isnull=False).first(),
            defaults={"value": {"label": "verifiable"}, "method": "majority"},
        )
        AgreementRun.objects.create(
            project=project, kind="verifiability", status="done", result={"alpha": 0.5}
        )
        ImportJob.objects.create(project=project, format="txt", filename=f"f{n_docs}.txt")

    def count(user) -> int:
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/admin/labeling/{model}/").status_code in (200, 403)
        return len(ctx.captured_queries)

    grow(1)
    small_lead, small_ann = count(lead), count(anns[0])
    grow(4)
    assert count(lead) == small_lead
    assert count(anns[0]) == small_ann


def test_project_form_creates_project_with_schemas_and_names_bad_fields(client, world) -> None:
    login(client, world["lead"])
    url = reverse("admin:labeling_project_create")
    assert client.get("/admin/labeling/project/add/").status_code == 200
    data = {
        "name": "New one",
        "annotators_per_item": 2,
        "lease_minutes": 30,
        "verifiability_enabled": "on",
        "verifiability_labels": "yes, no",
        "verifiability_level": "nominal",
        "stance_enabled": "on",
        "stance_labels": "against, neutral, favor",
        "stance_level": "ordinal",
        "stance_targets": "",
        "attribution_enabled": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert b"stance needs at least one target" in response.content
    data["stance_targets"] = "Ukrainian government\nRussian government"
    response = client.post(url, data)
    assert response.status_code == 302
    project = Project.objects.get(name="New one")
    schemas = {s.kind: s for s in project.schemas.all()}
    assert schemas["verifiability"].labels == ["yes", "no"]
    assert schemas["stance"].targets == ["Ukrainian government", "Russian government"]
    assert schemas["stance"].level == "ordinal"
    assert "attribution" in schemas
    assert project.memberships.get(user=world["lead"]).role == "lead"


def test_members_page_adds_changes_and_removes(client, world, make_user) -> None:
    newbie = make_user("newbie")
    p = world["p"]
    login(client, world["lead"])
    url = reverse("admin:labeling_members", args=[p.pk])
    assert (
        client.post(url, {"action": "add", "username": "newbie", "role": "annotator"}).status_code
        == 302
    )
    membership = p.memberships.get(user=newbie)
    client.post(url, {"action": "role", "membership": membership.pk, "role": "lead"})
    membership.refresh_from_db()
    assert membership.role == "lead"
    response = client.post(url, {"action": "add", "username": "nobody", "role": "annotator"})
    assert b"no active user named" in response.content
    client.post(url, {"action": "remove", "membership": membership.pk})
    assert not p.memberships.filter(user=newbie).exists()


def test_import_page_starts_a_job_and_reports_its_status(
    client, world, django_capture_on_commit_callbacks
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    p = world["p"]
    login(client, world["lead"])
    url = reverse("admin:labeling_import", args=[p.pk])
    upload = SimpleUploadedFile("story.txt", b"A headline\nSomeone said something. It was news.")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": upload, "format": ""})
    assert response.status_code == 302
    job = ImportJob.objects.get(project=p, filename="story.txt")
    assert response["Location"].endswith(f"?job={job.pk}")
    status = client.get(reverse("admin:labeling_import_status", args=[job.pk])).json()
    assert status["status"] == "done"
    assert status["n_created"] == 1
    assert client.get(response["Location"]).status_code == 200
    login(client, world["other_lead"])
    assert client.get(reverse("admin:labeling_import_status", args=[job.pk])).status_code == 404


def test_progress_page_counts_per_annotator_and_kind(client, world) -> None:
    skip_task(
        user=world["ann1"], task=Task.objects.filter(project=world["p"], kind="stance").first()
    )
    login(client, world["lead"])
    response = client.get(reverse("admin:labeling_progress", args=[world["p"].pk]))
    assert response.status_code == 200
    rows = {r["user"].username: r for r in response.context["annotator_rows"]}
    kinds = [k for k, _ in response.context["kinds"]]
    assert rows["ann1"]["cells"][kinds.index("verifiability")]["n"] == 2
    assert rows["ann1"]["cells"][kinds.index("stance")]["skipped"] == 1
    by_kind = {r["kind"]: r for r in response.context["kind_rows"]}
    assert by_kind["verifiability"]["n_annotations"] == 4


def test_agreement_dashboard_shows_the_latest_run_and_disputes(
    client, world, django_capture_on_commit_callbacks
) -> None:
    p = world["p"]
    with django_capture_on_commit_callbacks(execute=True):
        run = request_agreement_run(project=p, kind="verifiability", user=world["lead"])
    run.refresh_from_db()
    assert run.status == "done", run.error
    login(client, world["lead"])
    response = client.get(reverse("admin:labeling_agreement", args=[p.pk]) + "?kind=verifiability")
    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    assert [pt["id"] for pt in dashboard["history"]] == [run.pk]
    assert "pairwise" in dashboard["result"]
    assert response.context["disputed"], "ann1 and ann2 disagree on two sentences"
    assert b"adjudicate" in response.content


def test_adjudication_page_records_who_decided_and_how(client, world) -> None:
    p = world["p"]
    task = Task.objects.filter(project=p, kind="verifiability", n_submitted=2).first()
    pick = Annotation.objects.get(task=task, annotator=world["ann2"])
    login(client, world["lead"])
    url = reverse("admin:labeling_adjudicate", args=[task.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"ann1" in page.content
    assert b"ann2" in page.content
    response = client.post(url, {"choice": f"annotation:{pick.pk}", "note": ""})
    assert response.status_code == 302
    gold = GoldLabel.objects.get(task=task)
    assert gold.method == "adjudicated"
    assert gold.decided_by == world["lead"]
    assert gold.value == pick.value
    assert "ann2" in gold.note
    response = client.post(url, {"choice": "label", "label": "not_a_label"}, follow=True)
    assert b"not saved. value.label: &#x27;not_a_label&#x27; is not one of" in response.content
    client.post(url, {"choice": "label", "label": "not_a_claim", "note": "headline"})
    gold.refresh_from_db()
    assert gold.value == {"label": "not_a_claim"}
    assert gold.note == "headline"


def test_annotate_page_offers_the_members_projects_and_kinds(client, world) -> None:
    login(client, world["ann1"])
    response = client.get(reverse("admin:labeling_annotate"))
    assert response.status_code == 200
    config = response.context["workspace_config"]
    assert config["projectId"] == world["p"].pk
    assert config["kind"] == "attribution"
    assert [p.name for p in response.context["projects"]] == ["P"]
    response = client.get(reverse("admin:labeling_annotate") + f"?project={world['q'].pk}")
    assert response.context["workspace_config"]["projectId"] == world["p"].pk
    assert b"workspace.js" in response.content


def test_agreement_dashboard_shows_targets_spans_warnings_and_staleness(
    client, world, django_capture_on_commit_callbacks
) -> None:
    p = world["p"]
    stance = Task.objects.filter(project=p, kind="stance").order_by("pk")
    for task in stance:
        for user, value in ((world["ann1"], "favor"), (world["ann2"], "against")):
            Annotation.objects.create(task=task, annotator=user, value={"label": value})
    with django_capture_on_commit_callbacks(execute=True):
        run = request_agreement_run(project=p, kind="stance", user=world["lead"])
    run.refresh_from_db()
    assert run.status == "done", run.error
    login(client, world["lead"])
    url = reverse("admin:labeling_agreement", args=[p.pk])
    page = client.get(url + "?kind=stance").content.decode()
    assert 'id="lb-targets"' in page
    assert 'data-target="Ukrainian government"' in page
    assert "pooled over targets" in page
    assert 'class="lb-msg warning"' in page  # too few pairable values, at least
    assert 'data-annotator="ann1"' in page  # leave-one-out alpha per annotator
    with django_capture_on_commit_callbacks(execute=True):
        request_agreement_run(project=p, kind="attribution", user=world["lead"])
    page = client.get(url + "?kind=attribution").content.decode()
    assert 'id="lb-spans"' in page
