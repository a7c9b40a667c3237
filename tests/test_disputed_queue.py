"""The review queue: every disputed task of the latest run, filtered and paged in SQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.agreement_runs.runs import DISPUTED_LIMIT, execute_agreement_run
from labeling.models import AgreementRun, DisputedItem, GoldLabel, GoldMethod
from labeling.review.disputed import DisputedFilter, disputed_items, neighbour, position
from tests.factories import add_documents, make_project
from tests.test_agreement_api import client_for
from tests.test_agreement_runs import annotate, label_tasks, sentences_text

pytestmark = pytest.mark.django_db

URL = "/api/projects/{}/disputed/"


def run(project, kind: str = "verifiability") -> AgreementRun:
    row = AgreementRun.objects.create(project=project, kind=kind)
    execute_agreement_run(row.pk)
    row.refresh_from_db()
    assert row.status == "done", row.error
    return row


@pytest.fixture
def team(make_user):
    lead = make_user("lead")
    annotators = [make_user(f"ann{i}") for i in range(2)]
    return lead, annotators


def test_every_disputed_task_is_paged_not_only_the_runs_top_list(team) -> None:
    lead, annotators = team
    project = make_project(lead=lead, annotators=annotators)
    n = DISPUTED_LIMIT + 40  # 205 disputed: more than the run keeps in most_disputed
    add_documents(project, [sentences_text(n)])
    tasks = label_tasks(project)
    table = [["verifiable", "unverifiable"] if i % 7 else ["verifiable"] * 2 for i in range(n)]
    annotate(tasks, annotators, table)
    done = run(project)
    disputed = {t.pk for t, row in zip(tasks, table, strict=True) if row[0] != row[1]}
    assert len(done.result["most_disputed"]) == DISPUTED_LIMIT < len(disputed)
    client = client_for(lead)
    seen: list[int] = []
    url = URL.format(project.pk) + "?kind=verifiability&page_size=100"
    while url:
        body = client.get(url).json()
        assert body["count"] == len(disputed)
        seen += [item["task_id"] for item in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == len(disputed)
    assert set(seen) == disputed


def test_filters_by_target_document_and_adjudication(team) -> None:
    lead, annotators = team
    project = make_project(lead=lead, annotators=annotators)
    first, second = add_documents(project, [sentences_text(3), sentences_text(2)])
    tasks = label_tasks(project, "stance", "Russian government") + label_tasks(
        project, "stance", "Ukrainian government"
    )
    for task_list in (tasks,):
        annotate(task_list, annotators, [["favor", "against"]] * len(task_list))
    run(project, "stance")
    client = client_for(lead)
    base = URL.format(project.pk) + "?kind=stance"

    def ids(query: str = "") -> list[int]:
        response = client.get(base + query)
        assert response.status_code == 200, response.content
        return [item["task_id"] for item in response.json()["results"]]

    assert len(ids()) == 10
    russian = ids("&target=Russian%20government")
    assert sorted(russian) == sorted(t.pk for t in tasks if t.target == "Russian government")
    in_second = ids(f"&document={second}")
    assert {t.document_id for t in tasks if t.pk in in_second} == {second}
    assert len(in_second) == 4
    assert len(ids(f"&document={first}&target=Russian%20government")) == 3
    GoldLabel.objects.create(
        task=tasks[0], value={"label": "favor"}, method=GoldMethod.ADJUDICATED, decided_by=lead
    )
    GoldLabel.objects.create(task=tasks[1], value={"label": "favor"}, method=GoldMethod.MAJORITY)
    assert tasks[0].pk not in ids()
    assert tasks[1].pk in ids()  # aggregated gold is not an adjudication
    assert ids("&adjudicated=true") == [tasks[0].pk]
    assert len(ids("&adjudicated=any")) == 10
    assert len(ids("&include_adjudicated=true")) == 10


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("&document=abc", "document"),
        ("&adjudicated=maybe", "adjudicated"),
        ("&page=0", "page"),
        ("&page_size=501", "page_size"),
        ("&kind=no%20such", "kind"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(team, query, field) -> None:
    lead, annotators = team
    project = make_project(lead=lead, annotators=annotators)
    response = client_for(lead).get(URL.format(project.pk) + "?kind=verifiability" + query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_page_costs_the_same_queries_whatever_its_size_and_filters(team) -> None:
    lead, annotators = team
    client = client_for(lead)

    def queries_for(n_tasks: int, query: str) -> int:
        project = make_project(lead=lead, annotators=annotators, name=f"P{n_tasks}{query}")
        doc = add_documents(project, [sentences_text(n_tasks)])[0]
        annotate(label_tasks(project), annotators, [["verifiable", "unverifiable"]] * n_tasks)
        run(project)
        url = URL.format(project.pk) + f"?kind=verifiability&page_size=100{query}"
        url = url.replace("DOC", str(doc))
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(url).json()
        assert len(body["results"]) == min(n_tasks, 100)
        return len(ctx.captured_queries)

    plain = queries_for(3, "")
    assert plain == queries_for(90, "")
    assert queries_for(3, "&document=DOC&adjudicated=any") == plain
    assert queries_for(90, "&document=DOC&adjudicated=any") == plain


def test_next_and_previous_follow_the_filtered_order(team) -> None:
    lead, annotators = team
    project = make_project(lead=lead, annotators=annotators)
    add_documents(project, [sentences_text(4)])
    tasks = label_tasks(project)
    annotate(tasks, annotators, [["verifiable", "unverifiable"]] * 4)
    run(project)
    order = list(
        disputed_items(project_id=project.pk, kind="verifiability").values_list(
            "task_id", flat=True
        )
    )
    assert len(order) == 4
    open_only = DisputedFilter()

    def nxt(task_id: int, forward: bool = True) -> int | None:
        return neighbour(
            project_id=project.pk,
            kind="verifiability",
            task_id=task_id,
            filters=open_only,
            forward=forward,
        )

    assert nxt(order[0]) == order[1]
    assert nxt(order[3]) == order[0]  # wraps around to the first open item
    assert nxt(order[2], forward=False) == order[1]
    GoldLabel.objects.create(
        task_id=order[1], value={"label": "verifiable"}, method="adjudicated", decided_by=lead
    )
    assert nxt(order[0]) == order[2]  # the adjudicated one is skipped
    assert nxt(order[1]) == order[2]  # from an adjudicated item, on to the next open one
    for task_id in order[2:]:
        GoldLabel.objects.create(
            task_id=task_id, value={"label": "verifiable"}, method="adjudicated"
        )
    assert nxt(order[3]) == order[0]
    assert nxt(order[0]) is None  # the only open item: nothing else to go to
    assert (
        position(project_id=project.pk, kind="verifiability", task_id=order[0], filters=open_only)
        == 1
    )


def test_a_new_run_replaces_the_queue_and_a_retry_does_not_duplicate(team) -> None:
    lead, annotators = team
    project = make_project(lead=lead, annotators=annotators)
    add_documents(project, [sentences_text(3)])
    tasks = label_tasks(project)
    annotate(tasks, annotators, [["verifiable", "unverifiable"]] * 3)
    first = run(project)
    execute_agreement_run(first.pk)  # already done: a no-op
    assert DisputedItem.objects.filter(run=first).count() == 3
    tasks[0].annotations.filter(annotator=annotators[1]).update(value={"label": "verifiable"})
    second = run(project)
    queue = disputed_items(project_id=project.pk, kind="verifiability")
    assert {row.run_id for row in queue} == {second.pk}
    assert not DisputedItem.objects.filter(run=first).exists()  # pruned once the second was done
    assert sorted(row.task_id for row in queue) == sorted(t.pk for t in tasks[1:])
