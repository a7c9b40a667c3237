"""Annotators and leads in a real browser: keyboard labelling, attribution by mouse, review."""

from __future__ import annotations

import pytest

from labeling.agreement_runs.runs import request_agreement_run
from labeling.models import Annotation, AnnotationRevision, GoldLabel, Sentence, Task
from labeling.queue import next_task, submit_annotation
from tests.browser.conftest import log_in
from tests.factories import add_documents, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "“We will not back down,” the minister said in Geneva on Monday.\n"
    "Officials met for three hours.\n"
    "The deal covers 1,844 tonnes of grain, according to Reuters.\n"
    "Talks resume in May.\n"
    "Critics called the plan a trap.\n"
    "Markets rose slightly."
)

SELECT_JS = """
([needle, nth]) => {
  const box = document.querySelector('#lb-text');
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  let full = '', nodes = [];
  while (walker.nextNode()) {
    nodes.push([walker.currentNode, full.length]);
    full += walker.currentNode.data;
  }
  let at = -1;
  for (let i = 0; i <= nth; i++) at = full.indexOf(needle, at + 1);
  const point = (offset) => {
    for (const [node, start] of nodes) {
      if (offset < start + node.data.length) return [node, offset - start];
    }
  };
  const rect = (offset) => {
    const [node, o] = point(offset);
    const r = document.createRange(); r.setStart(node, o); r.setEnd(node, o + 1);
    const b = r.getBoundingClientRect(); return [b.left, b.right, b.top + b.height / 2];
  };
  const a = rect(at), b = rect(at + needle.length - 1);
  return {x1: a[0] + 1, y1: a[2], x2: b[1] - 1, y2: b[2]};
}
"""


def drag_select(page, needle: str, nth: int = 0) -> None:
    """Select ``needle`` in the task text with a real mouse drag."""
    box = page.evaluate(SELECT_JS, [needle, nth])
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move((box["x1"] + box["x2"]) / 2, box["y2"], steps=3)
    page.mouse.move(box["x2"], box["y2"], steps=3)
    page.mouse.up()


def _saved(task_id: int, username: str, timeout: float = 15.0) -> None:
    """Wait until the annotator's answer to the task is stored."""
    import time

    end = time.monotonic() + timeout
    while not Annotation.objects.filter(task_id=task_id, annotator__username=username).exists():
        assert time.monotonic() < end, f"task {task_id}: no annotation by {username}"
        time.sleep(0.05)


def current_task_id(page) -> int:
    text = page.locator(".lb-taskhead .lb-muted").first.inner_text()
    return int(text.rsplit("#", 1)[1])


def wait_for_other_task(page, task_id: int) -> int:
    page.wait_for_function(
        "id => { const e = document.querySelector('.lb-taskhead .lb-muted');"
        " return e && !e.textContent.endsWith('#' + id); }",
        arg=task_id,
    )
    return current_task_id(page)


@pytest.fixture
def project(make_user):
    lead = make_user("lead")
    annotators = [make_user(f"ann{i}") for i in (1, 2, 3)]
    project = make_project(lead=lead, annotators=annotators, overlap=3, name="Wire stories")
    project.guidelines = (
        "Label each highlighted sentence. A claim is verifiable if it can be checked."
    )
    project.save()
    add_documents(project, [TEXT])
    return project


def test_annotator_labels_with_keyboard_skips_goes_back_and_marks_attribution(
    new_page, shot, project
) -> None:
    page = new_page()
    log_in(page, "ann1")
    shot(page, "01_admin_index_annotator")
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=verifiability")
    page.wait_for_selector(".lb-label")
    page.wait_for_selector("[data-testid=remaining]")
    shot(page, "02_workspace_verifiability")
    done = []
    for key in ("1", "2", "3"):  # one key labels and advances
        task_id = current_task_id(page)
        page.keyboard.press(key)
        wait_for_other_task(page, task_id)
        done.append(task_id)
    skipped = current_task_id(page)
    page.keyboard.press("s")
    after_skip = wait_for_other_task(page, skipped)
    assert after_skip not in done
    # Z goes back to the last submitted task, pre-filled; change it and save.
    page.keyboard.press("z")
    page.wait_for_selector("[data-testid=editing]")
    assert current_task_id(page) == done[-1]
    assert page.locator(".lb-label.selected").inner_text().endswith("not a claim")
    shot(page, "03_workspace_editing_previous")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Your change was saved.")

    labels = dict(
        Annotation.objects.filter(
            annotator__username="ann1", task__kind="verifiability"
        ).values_list("task_id", "value__label")
    )
    assert labels == {done[0]: "verifiable", done[1]: "unverifiable", done[2]: "verifiable"}
    edited = Annotation.objects.get(task_id=done[2], annotator__username="ann1")
    assert edited.revision == 2
    assert AnnotationRevision.objects.get(annotation=edited).value == {"label": "not_a_claim"}
    assert edited.lead_time_ms is not None
    assert (
        Task.objects.get(pk=skipped).assignments.get(annotator__username="ann1").status == "skipped"
    )

    # Attribution with the mouse: source, cue, content.
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=attribution")
    page.wait_for_selector("#lb-text .lb-sent.current")
    task_id = current_task_id(page)
    drag_select(page, "he minis")  # snaps to "the minister"
    page.keyboard.press("1")
    drag_select(page, "said")
    page.click("button[data-role=cue]")
    drag_select(page, "We will not back down")
    page.keyboard.press("3")
    page.wait_for_selector("[data-testid=triple]")
    shot(page, "04_workspace_attribution")
    page.keyboard.press("Enter")
    wait_for_other_task(page, task_id)
    _saved(task_id, "ann1")  # answers are saved in the background, after the next task
    annotation = Annotation.objects.get(task_id=task_id, annotator__username="ann1")
    sentence = Sentence.objects.get(tasks__id=task_id)
    text = sentence.document.text
    (triple,) = annotation.value["attributions"]
    assert text[triple["source"]["start"] : triple["source"]["end"]] == "the minister"
    assert text[triple["cue"]["start"] : triple["cue"]["end"]] == "said"
    assert text[triple["content"]["start"] : triple["content"]["end"]] == "We will not back down"


def test_second_annotator_cannot_see_the_first_ones_labels(new_page, shot, project) -> None:
    ann1 = project.memberships.get(user__username="ann1").user
    for value in ("verifiable", "unverifiable"):
        held = next_task(user=ann1, project=project, kind="verifiability")
        submit_annotation(user=ann1, task=held.task, value={"label": value})
    theirs = Annotation.objects.filter(annotator=ann1).first()

    page = new_page()
    log_in(page, "ann2")
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=verifiability")
    page.wait_for_selector(".lb-label")
    assert page.locator(".lb-label.selected").count() == 0  # same sentence, nothing pre-filled
    page.goto("/admin/labeling/annotation/")
    assert "ann1" not in page.content()
    page.goto(f"/admin/labeling/annotation/{theirs.pk}/change/")
    assert page.url.endswith("/admin/")
    assert "ann1" not in page.locator("#content").inner_text()
    shot(page, "05_second_annotator_blind")
    # The task ann2 now holds is the one ann1 labelled first: the API shows only ann2's own.
    payload = page.request.get(f"/api/tasks/{theirs.task_id}/").json()
    assert payload["annotation"] is None


def test_lead_reviews_agreement_charts_and_adjudicates(new_page, shot, project) -> None:
    users = {m.user.username: m.user for m in project.memberships.select_related("user")}
    votes = {
        "ann1": [
            "verifiable",
            "verifiable",
            "not_a_claim",
            "verifiable",
            "unverifiable",
            "verifiable",
        ],
        "ann2": [
            "verifiable",
            "unverifiable",
            "not_a_claim",
            "verifiable",
            "unverifiable",
            "not_a_claim",
        ],
        "ann3": [
            "verifiable",
            "unverifiable",
            "verifiable",
            "verifiable",
            "not_a_claim",
            "verifiable",
        ],
    }
    for name, labels in votes.items():
        for value in labels:
            held = next_task(user=users[name], project=project, kind="verifiability")
            submit_annotation(user=users[name], task=held.task, value={"label": value})
    request_agreement_run(project=project, kind="verifiability", user=users["lead"])

    page = new_page()
    log_in(page, "lead")
    page.goto(f"/admin/labeling/project/{project.pk}/agreement/?kind=verifiability")
    page.wait_for_selector("#chart-alpha svg circle.point")
    assert page.locator("#chart-pairs svg g.cell rect").count() >= 9
    assert page.locator("#chart-confusion svg g.cell rect").count() == 9
    assert page.locator("#chart-labels svg rect.bar").count() == 3
    shot(page, "06_agreement_dashboard")

    page.click("[data-testid=recompute]")
    page.wait_for_function(
        "document.querySelectorAll('#chart-alpha svg circle.point').length === 2"
    )

    page.locator(".lb-disputed a.lb-btn-primary").first.click()
    page.wait_for_selector("[data-testid=annotation]")
    # The cards are server-rendered; the module attaches their handlers after a dynamic import.
    page.wait_for_selector("#lb-adjudicate-form[data-ready=true]")
    shot(page, "07_adjudication")
    task_id = int(page.url.split("/task/")[1].split("/")[0])
    page.locator("[data-testid=annotation]").nth(1).click()
    page.click("#lb-save-gold")
    page.wait_for_selector(".messagelist .success")
    gold = GoldLabel.objects.get(task_id=task_id)
    assert gold.method == "adjudicated"
    assert gold.decided_by == users["lead"]
    shot(page, "08_dashboard_after_adjudication")

    for name, url in (
        ("09_progress", f"/admin/labeling/project/{project.pk}/progress/"),
        ("10_members", f"/admin/labeling/project/{project.pk}/members/"),
        ("11_import", f"/admin/labeling/project/{project.pk}/import/"),
        ("12_project_form", "/admin/labeling/project/new/"),
        ("13_documents", "/admin/labeling/document/"),
        ("14_tasks", "/admin/labeling/task/"),
    ):
        page.goto(url)
        shot(page, name)


def test_annotator_answers_a_custom_kind_with_number_keys(new_page, shot, make_user) -> None:
    """A project's custom question is answered in the workspace like any label kind."""
    labels = ["none", "one", "two", "three", "four", "many"]
    annotator = make_user("cust1")
    project = make_project(
        annotators=[annotator],
        overlap=1,
        name="Counts",
        schemas=[{"kind": "n_people", "labels": labels, "level": "ordinal"}],
    )
    add_documents(project, [TEXT])
    page = new_page()
    log_in(page, "cust1")
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=n_people")
    page.wait_for_selector(".lb-label")
    assert page.locator(".lb-label").count() == len(labels)
    assert page.locator(".lb-keys").inner_text().startswith("1–9")
    shot(page, "custom_kind_workspace")
    task_id = current_task_id(page)
    page.keyboard.press("5")  # one key labels and advances
    wait_for_other_task(page, task_id)
    value = Annotation.objects.get(task_id=task_id, annotator=annotator).value
    assert value == {"label": "four"}
    assert Task.objects.get(pk=task_id).kind == "n_people"


def test_annotator_accepts_a_suggested_triple_with_one_key(new_page, shot, project) -> None:
    page = new_page()
    log_in(page, "ann2")
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=attribution")
    page.wait_for_selector("[data-testid=suggestion]")
    task_id = current_task_id(page)
    suggestion = page.locator("[data-testid=suggestion]").first.inner_text()
    assert "“the minister”" in suggestion
    assert "“We will not back down”" in suggestion
    shot(page, "05_workspace_suggestions")
    # Two keys: Y accepts the suggestion, Enter submits it.
    page.keyboard.press("y")
    page.wait_for_selector("[data-testid=triple]")
    page.wait_for_selector("[data-testid=suggestion].accepted")
    page.keyboard.press("y")  # nothing left to accept: no duplicate triple
    page.wait_for_selector("text=already among your triples")
    assert page.locator("[data-testid=triple]").count() == 1
    # Answers are saved in the background: wait for the PUT itself, not only the next task.
    saved = f"/tasks/{task_id}/annotation/"
    with page.expect_response(lambda r: saved in r.url and r.request.method == "PUT"):
        page.keyboard.press("Enter")
    wait_for_other_task(page, task_id)
    annotation = Annotation.objects.get(task_id=task_id, annotator__username="ann2")
    assert annotation.from_suggestion is True
    text = Sentence.objects.get(tasks__id=task_id).document.text
    (triple,) = annotation.value["attributions"]
    assert [text[triple[r]["start"] : triple[r]["end"]] for r in ("source", "cue", "content")] == [
        "the minister",
        "said",
        "We will not back down",
    ]
    # Going back shows the answer as started from a suggestion and keeps the flag on save.
    page.keyboard.press("z")
    page.wait_for_selector("[data-testid=editing]")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Your change was saved.")
    annotation.refresh_from_db()
    assert (annotation.revision, annotation.from_suggestion) == (2, True)


def test_annotator_sees_model_predictions_beside_the_suggestions(new_page, shot, project) -> None:
    from labeling.predictions.importing import import_predictions

    first = Task.objects.filter(project=project, kind="attribution").order_by("position").first()
    sentence = Sentence.objects.get(pk=first.sentence_id)
    quote = "We will not back down"
    start = TEXT.index(quote)
    cue = TEXT.index("said")
    import_predictions(
        project=project,
        items=[
            {
                "task": first.pk,
                "model": "span-model",
                "score": 0.75,
                "value": {
                    "attributions": [
                        {
                            "source": {"start": TEXT.index("the minister"), "end": cue - 1},
                            "cue": {"start": cue, "end": cue + 4},
                            "content": {"start": start, "end": start + len(quote)},
                        }
                    ]
                },
            }
        ],
    )
    assert sentence.start <= cue < sentence.end
    page = new_page()
    log_in(page, "ann3")
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=attribution")
    page.wait_for_selector("[data-testid=prediction]")
    assert current_task_id(page) == first.pk
    shown = page.locator("[data-testid=prediction]").first.inner_text()
    assert "span-model" in shown
    assert "cue: “said”" in shown
    assert f"content: “{quote}”" in shown
    assert "score 0.75" in shown
    assert page.locator("[data-testid=suggestion]").count() >= 1  # the rules' list stays
    shot(page, "06_workspace_predictions")
