"""A lead curates in chromium: the disputed list, keyboard navigation and the span editor.

The document mixes a flag (outside the BMP), a ZWJ emoji, CJK, Cyrillic and combining
marks: the gold stored (in code points) must be exactly the text the lead chose on the
page (where JavaScript counts UTF-16).
"""

from __future__ import annotations

import pytest

from labeling.agreement_runs.runs import request_agreement_run
from labeling.models import Assignment, GoldLabel, Task
from labeling.queue import next_task, submit_annotation
from tests.browser.conftest import log_in
from tests.browser.policies import axe_problems, boxed_glyphs, csp_violations, watch
from tests.browser.test_workspace import drag_select
from tests.factories import add_documents, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZOE = "Zoe\u0308 Kovalenko"  # e + combining diaeresis
TEXT = (
    f"“Мы не отступим 🇺🇦,” said {ZOE} in 北京 on Monday.\n"
    "The cafe\u0301 owner 👩‍💻 told reporters that prices rose.\n"
    "Officials met for three hours."
)


def span(text: str, needle: str, nth: int = 0) -> dict[str, int]:
    """Code-point offsets of the ``nth`` occurrence of ``needle``."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    return {"start": at, "end": at + len(needle)}


def triple(source: str, cue: str, content: str) -> dict[str, dict[str, int]]:
    return {"source": span(TEXT, source), "cue": span(TEXT, cue), "content": span(TEXT, content)}


def quoted(value: dict, role: str) -> str:
    s = value[role]
    return TEXT[s["start"] : s["end"]]


@pytest.fixture
def project(make_user):
    lead = make_user("lead")
    ann1, ann2 = make_user("ann1"), make_user("ann2")
    project = make_project(lead=lead, annotators=[ann1, ann2], overlap=2, name="Curation")
    add_documents(project, [TEXT])
    answers = {
        # sentence 0: both mark a triple, with different source and content spans
        0: (
            [triple(ZOE, "said", "Мы не отступим 🇺🇦")],
            [triple(f"{ZOE} in 北京", "said", "Мы не отступим")],
        ),
        # sentence 1: one annotator marks a triple, the other none
        1: ([triple("The cafe\u0301 owner", "told", "prices rose")], []),
        2: ([], []),
    }
    for user, column in ((ann1, 0), (ann2, 1)):
        for _ in range(3):
            held = next_task(user=user, project=project, kind="attribution")
            position = held.task.sentence.position
            value = {"attributions": answers[position][column]}
            submit_annotation(user=user, task=held.task, value=value)
    run = request_agreement_run(project=project, kind="attribution", user=lead)
    run.refresh_from_db()
    assert run.status == "done", run.error
    return project


def attribution_task(project, position: int) -> Task:
    return Task.objects.get(project=project, kind="attribution", sentence__position=position)


def test_lead_combines_spans_moves_boundaries_and_walks_the_list_by_keyboard(
    new_page, shot, project
) -> None:
    first, second = attribution_task(project, 0), attribution_task(project, 1)
    page = new_page()
    console = watch(page)
    log_in(page, "lead")
    page.goto(f"/admin/labeling/project/{project.pk}/disputed/?kind=attribution")
    rows = page.locator("[data-testid=disputed-row]")
    assert rows.count() == 2
    assert page.locator("[data-testid=disputed-count]").inner_text().startswith("2 disputed")
    shot(page, "c01_disputed_list")
    page.locator(f"tr[data-task='{first.pk}'] a").click()
    page.wait_for_selector("#lb-adjudicate-form[data-ready=true]")
    assert page.locator("[data-testid=annotator-triple]").count() == 2

    # Combine: ann2's whole triple, then ann1's source span in place of ann2's.
    ann2_card = page.locator(".lb-anno", has_text="ann2")
    ann2_card.locator("[data-take=triple]").click()
    page.locator(".lb-anno", has_text="ann1").locator("[data-take=source]").click()
    draft = page.locator("#lb-editor-draft")
    assert ZOE in draft.locator("[data-role-text=source]").inner_text()
    assert "北京" not in draft.locator("[data-role-text=source]").inner_text()
    # Keyboard: 3 picks the content span, → moves its end one word (the flag) further.
    page.keyboard.press("3")
    page.keyboard.press("ArrowRight")
    assert draft.locator("[data-role-text=content]").inner_text() == "“Мы не отступим 🇺🇦”"
    page.keyboard.press("a")
    page.wait_for_selector("[data-testid=gold-triple]")
    shot(page, "c02_adjudicate_span_editor")
    assert csp_violations(page, console) == []
    assert axe_problems(page) == []
    assert boxed_glyphs(page) == []  # the flag, 北京 and Zoë are drawn
    page.keyboard.press("Enter")  # save, then the next open item
    page.wait_for_url(f"**/task/{second.pk}/adjudicate/**")
    gold = GoldLabel.objects.get(task=first)
    assert gold.method == "adjudicated"
    (saved,) = gold.value["attributions"]
    assert quoted(saved, "source") == ZOE
    assert quoted(saved, "cue") == "said"
    assert quoted(saved, "content") == "Мы не отступим 🇺🇦"

    # The second item by mouse: drag over words, a role key each, A, then save.
    page.wait_for_selector("#lb-adjudicate-form[data-ready=true]")
    assert page.locator("[data-testid=queue-position]").inner_text() == "Disputed item 1 of 1"
    drag_select_in(page, "cafe\u0301 own")  # snaps to whole words: "café owner"
    page.keyboard.press("1")
    drag_select_in(page, "told")
    page.click("#lb-gold-editor [data-role=cue]")
    drag_select_in(page, "prices rose")
    page.keyboard.press("3")
    # Shift+← moves the source's start one word left: "The café owner".
    page.keyboard.press("1")
    page.keyboard.press("Shift+ArrowLeft")
    page.click("#lb-gold-editor [data-act=add]")
    shot(page, "c03_adjudicate_by_mouse")
    with page.expect_response(lambda r: "/gold/" in r.url and r.request.method == "PUT") as put:
        page.click("#lb-save-gold")
    assert put.value.status == 200
    (saved,) = GoldLabel.objects.get(task=second).value["attributions"]
    assert quoted(saved, "source") == "The cafe\u0301 owner"
    assert quoted(saved, "cue") == "told"
    assert quoted(saved, "content") == "prices rose"
    # Both decided: the open list is empty; K/J have nowhere to go.
    page.goto(f"/admin/labeling/project/{project.pk}/disputed/?kind=attribution")
    assert page.locator("[data-testid=disputed-row]").count() == 0
    page.goto(f"/admin/labeling/project/{project.pk}/disputed/?kind=attribution&adjudicated=true")
    assert page.locator("[data-testid=disputed-row]").count() == 2
    assert csp_violations(page, console) == []


def drag_select_in(page, needle: str) -> None:
    """A mouse drag over ``needle`` in the adjudication page's text."""
    page.evaluate("() => { document.querySelector('#lb-context').id = 'lb-text'; }")
    try:
        drag_select(page, needle)
    finally:
        page.evaluate("() => { document.querySelector('#lb-text').id = 'lb-context'; }")


def test_label_kind_digit_and_enter_decide_and_open_the_next_item(
    new_page, shot, make_user
) -> None:
    lead = make_user("lead")
    anns = [make_user(f"ann{i}") for i in range(2)]
    project = make_project(lead=lead, annotators=anns, overlap=2, name="Labels")
    add_documents(project, ["One claim here.\nA second claim.\nA third one."])
    for user, labels in zip(anns, (["verifiable"] * 3, ["unverifiable"] * 3), strict=True):
        for label in labels:
            held = next_task(user=user, project=project, kind="verifiability")
            submit_annotation(user=user, task=held.task, value={"label": label})
    request_agreement_run(project=project, kind="verifiability", user=lead)
    page = new_page()
    console = watch(page)
    log_in(page, "lead")
    page.goto(f"/admin/labeling/project/{project.pk}/agreement/?kind=verifiability")
    page.click("[data-testid=all-disputed]")
    page.wait_for_selector("#lb-disputed-table[data-ready=true]")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_selector("#lb-adjudicate-form[data-ready=true]")
    first = int(page.url.split("/task/")[1].split("/")[0])
    page.keyboard.press("j")  # next item without deciding
    page.wait_for_url("**/adjudicate/**")
    page.wait_for_selector("#lb-adjudicate-form[data-ready=true]")
    second = int(page.url.split("/task/")[1].split("/")[0])
    assert second != first
    page.keyboard.press("k")
    page.wait_for_function(f"location.pathname.includes('/task/{first}/')")
    page.wait_for_selector("#lb-adjudicate-form[data-ready=true]")
    page.keyboard.press("2")  # the second label: unverifiable
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist .success")
    assert f"/task/{second}/" in page.url
    assert GoldLabel.objects.get(task_id=first).value == {"label": "unverifiable"}
    shot(page, "c04_adjudicate_labels_next")
    assert csp_violations(page, console) == []


def test_lead_is_asked_before_the_workspace_leases_a_task(new_page, shot, project) -> None:
    page = new_page()
    console = watch(page)
    log_in(page, "lead")
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=verifiability")
    page.wait_for_selector("[data-testid=lead-ask]")
    shot(page, "c05_annotate_lead_asked")
    page.wait_for_timeout(300)  # nothing may lease behind the question
    assert not Assignment.objects.filter(annotator__username="lead").exists()
    assert axe_problems(page) == []
    page.click("[data-testid=lead-annotate]")
    page.wait_for_selector(".lb-label")
    assert Assignment.objects.filter(annotator__username="lead").exists()  # and one ahead
    # Asked once per project: another kind opens the workspace directly.
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=attribution")
    page.wait_for_selector("[data-testid=queue-empty]")  # the annotators did every task
    assert page.locator("[data-testid=lead-ask]").count() == 0
    assert csp_violations(page, console) == []
