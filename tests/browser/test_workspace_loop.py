"""The annotator's workspace in chromium: the whole document, keys typed ahead, undo, stance
groups, attribution by keyboard, mouse and touch (counting keys and gestures), and a phone."""

from __future__ import annotations

import functools
import time

import pytest

from labeling.models import Annotation, Assignment, Task
from tests.browser.conftest import SCREENSHOTS, log_in
from tests.browser.conftest import wait_until as wait_for
from tests.browser.test_workspace import SELECT_JS, TEXT, drag_select
from tests.factories import add_documents, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNICODE = (
    "例えば the cafe\u0301 owner 👩\u200d💻 said the talks were “productive” for Kyiv.\n\n"
    "A closing line 🇺🇦 here."
)


def shown_task(page) -> int:
    return int(page.locator("#lb-workspace").get_attribute("data-task-id") or 0)


def wait_until(check, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def labels_of(username: str, kind: str = "verifiability") -> dict[int, str]:
    return dict(
        Annotation.objects.filter(annotator__username=username, task__kind=kind).values_list(
            "task_id", "value__label"
        )
    )


@pytest.fixture
def project(make_user):
    ann = make_user("ann1")
    project = make_project(lead=make_user("lead"), annotators=[ann], overlap=1, name="Wire")
    add_documents(project, [TEXT])
    return project


def test_whole_document_type_ahead_and_undo(new_page, shot, project) -> None:
    page = new_page()
    log_in(page, "ann1")
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=verifiability")
    page.wait_for_selector("#lb-text [aria-current=true]")
    # The whole document: six sentences, line breaks kept, one current sentence.
    assert page.locator("#lb-text .lb-sent").count() == 6
    assert page.locator("#lb-text [aria-current=true]").count() == 1
    assert "\n" in page.locator("#lb-text").inner_text()
    assert page.locator(".lb-doc-title").inner_text() == "Doc 0"
    shot(page, "10_workspace_whole_document")
    first = shown_task(page)
    # Three labels typed at once, without waiting: none is dropped, each is its own task.
    page.keyboard.type("123", delay=0)
    wait_until(lambda: len(labels_of("ann1")) == 3)
    got = labels_of("ann1")
    tasks = sorted(got)
    assert tasks[0] == first
    assert [got[t] for t in tasks] == ["verifiable", "unverifiable", "not_a_claim"]
    assert [Task.objects.get(pk=t).position for t in tasks] == [0, 1, 2]
    page.wait_for_function(
        "id => document.querySelector('#lb-workspace').dataset.taskId != id", arg=str(tasks[-1])
    )
    fourth = shown_task(page)
    assert Task.objects.get(pk=fourth).position == 3
    current = page.locator("#lb-text [aria-current=true]")
    assert current.inner_text() == "Talks resume in May."
    # U undoes the last submit: the answer is withdrawn and its task is back on screen.
    page.keyboard.press("u")
    page.wait_for_function(
        "id => document.querySelector('#lb-workspace').dataset.taskId == id", arg=str(tasks[-1])
    )
    wait_until(lambda: len(labels_of("ann1")) == 2)
    page.wait_for_selector("text=Undone")
    shot(page, "11_workspace_after_undo")
    page.keyboard.press("1")  # a new answer, and the task that was on screen comes back
    page.wait_for_function(
        "id => document.querySelector('#lb-workspace').dataset.taskId == id", arg=str(fourth)
    )
    wait_until(lambda: labels_of("ann1").get(tasks[-1]) == "verifiable")
    # S skips; U brings the skipped task back.
    page.keyboard.press("s")
    page.wait_for_function(
        "id => document.querySelector('#lb-workspace').dataset.taskId != id", arg=str(fourth)
    )
    page.keyboard.press("u")
    page.wait_for_function(
        "id => document.querySelector('#lb-workspace').dataset.taskId == id", arg=str(fourth)
    )
    wait_until(lambda: Assignment.objects.get(task_id=fourth).status == "active")


def test_confirm_with_enter_setting_is_kept_per_user(new_page, project) -> None:
    page = new_page()
    log_in(page, "ann1")
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=verifiability")
    page.wait_for_selector(".lb-label")
    page.check("#lb-confirm-enter")
    page.wait_for_timeout(300)
    page.reload()
    page.wait_for_selector(".lb-label")
    assert page.is_checked("#lb-confirm-enter")
    first = shown_task(page)
    page.keyboard.press("2")
    page.wait_for_selector(".lb-label.selected")
    assert shown_task(page) == first  # a label key alone does not submit now
    page.keyboard.press("Enter")
    page.wait_for_function(
        "id => document.querySelector('#lb-workspace').dataset.taskId != id", arg=str(first)
    )
    wait_until(lambda: labels_of("ann1") == {first: "unverifiable"})


def test_stance_group_two_targets_in_two_keys_on_one_screen(new_page, shot, project) -> None:
    page = new_page()
    log_in(page, "ann1")
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=stance")
    page.wait_for_selector(".lb-label-row.focus")
    assert page.locator(".lb-label-row").count() == 2
    targets = page.locator(".lb-row-target").all_inner_texts()
    assert targets == ["Russian government", "Ukrainian government"]
    shot(page, "12_workspace_stance_group")
    first = shown_task(page)
    page.keyboard.press("1")  # against, for the first target
    page.keyboard.press("3")  # favor, for the second: the sentence is submitted
    page.wait_for_function(
        "id => document.querySelector('#lb-workspace').dataset.taskId != id", arg=str(first)
    )
    wait_until(lambda: len(labels_of("ann1", "stance")) == 2)
    by_target = {
        a.task.target: a.value["label"]
        for a in Annotation.objects.filter(task__kind="stance").select_related("task")
    }
    assert by_target == {"Russian government": "against", "Ukrainian government": "favor"}
    assert len({a.task.sentence_id for a in Annotation.objects.filter(task__kind="stance")}) == 1


def _attribution_page(new_page, make_user, text: str, *, touch: bool = False):
    ann = make_user("attr1")
    project = make_project(
        lead=make_user("alead"), annotators=[ann], overlap=1, schemas=[{"kind": "attribution"}]
    )
    add_documents(project, [text])
    page = new_page(has_touch=touch) if touch else new_page()
    log_in(page, "attr1")
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=attribution")
    page.wait_for_selector("#lb-text [aria-current=true]")
    return page, ann


def stored_triples(ann) -> list[tuple[str, ...]]:
    (annotation,) = Annotation.objects.filter(annotator=ann)
    text = annotation.task.document.text
    return sorted(
        tuple(text[t[r]["start"] : t[r]["end"]] for r in ("source", "cue", "content"))
        for t in annotation.value["attributions"]
    )


def test_a_triple_in_five_keys(new_page, shot, make_user) -> None:
    page, ann = _attribution_page(new_page, make_user, TEXT)
    keys = ['"', "3", "Shift+ArrowRight", "1", "2"]  # content to the quote, source, cue
    for key in keys:
        page.keyboard.press(key)
    page.wait_for_selector("[data-testid=triple]")
    assert len(keys) <= 8
    assert page.locator(".lb-badge").count() >= 3  # numbered on the text
    shot(page, "13_workspace_triple_by_keyboard")
    page.keyboard.press("Enter")
    wait_until(lambda: Annotation.objects.filter(annotator=ann).exists())
    assert stored_triples(ann) == [("the minister", "said", "We will not back down")]


def test_a_triple_in_three_gestures_and_overlapping_triples_are_numbered(
    new_page, shot, make_user
) -> None:
    page, ann = _attribution_page(new_page, make_user, TEXT)
    gestures = 0
    drag_select(page, "the minister")  # the source (the next role missing)
    gestures += 1
    box = page.evaluate(SELECT_JS, ["said", 0])
    page.mouse.click(box["x1"] + 2, box["y1"])  # one click: the cue
    gestures += 1
    drag_select(page, "We will not back down")  # the content: the triple is added
    gestures += 1
    page.wait_for_selector("[data-testid=triple]")
    assert gestures <= 3
    # A second triple over the same words: drawn with its own number.
    page.keyboard.press("2")  # after a gesture, keys pick the role of the next one
    box = page.evaluate(SELECT_JS, ["said", 0])  # the numbers moved the words
    page.mouse.click(box["x1"] + 2, box["y1"])
    drag_select(page, "the minister")
    page.keyboard.press("1")
    drag_select(page, "We will not")
    page.wait_for_selector("[data-testid=triple] >> nth=1")
    badges = page.locator("#lb-text .lb-badge").all_inner_texts()
    assert {"1", "2"} <= set(badges)
    cues = page.locator("[data-testid=triple] td.cue").all_inner_texts()
    assert cues == ["said", "said"]
    shot(page, "14_workspace_overlapping_triples")
    # The list selects and deletes.
    page.locator("[data-testid=triple] >> nth=1").click()
    page.keyboard.press("Delete")
    assert page.locator("[data-testid=triple]").count() == 1
    page.keyboard.press("Enter")
    wait_until(lambda: Annotation.objects.filter(annotator=ann).exists())
    assert stored_triples(ann) == [("the minister", "said", "We will not back down")]


def _touch_drag(page, needle: str) -> None:
    box = page.evaluate(SELECT_JS, [needle, 0])
    cdp = page.context.new_cdp_session(page)
    point = lambda x, y: [{"x": x, "y": y, "id": 1}]  # noqa: E731
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": "touchStart", "touchPoints": point(box["x1"], box["y1"])},
    )
    for f in (0.3, 0.6, 1.0):
        x = box["x1"] + f * (box["x2"] - box["x1"])
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": point(x, box["y2"])}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_touch_marks_spans_on_unicode_text(new_page, shot, make_user) -> None:
    page, ann = _attribution_page(new_page, make_user, UNICODE, touch=True)
    _touch_drag(page, "cafe\u0301 owner 👩")  # snaps to the whole ZWJ sequence
    page.wait_for_function(
        "document.querySelector('[data-testid=draft]').textContent.includes('owner')"
    )
    box = page.evaluate(SELECT_JS, ["said", 0])
    page.touchscreen.tap(box["x1"] + 3, box["y1"])
    _touch_drag(page, "the talks were “productive” for Kyiv")
    page.wait_for_selector("[data-testid=triple]")
    shot(page, "15_workspace_touch_unicode")
    page.keyboard.press("Enter")
    wait_until(lambda: Annotation.objects.filter(annotator=ann).exists())
    assert stored_triples(ann) == [
        ("cafe\u0301 owner 👩\u200d💻", "said", "the talks were “productive” for Kyiv")
    ]


def test_phone_shows_sentence_labels_and_submit_without_scrolling(
    browser, live_server, project
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        base_url=live_server.url,
    )  # fmt: skip
    try:
        page = context.new_page()
        page.wait_for_function = functools.partial(wait_for, page)  # CSP: no eval in the page
        log_in(page, "ann1")
        page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=verifiability")
        for round_ in range(3):
            page.wait_for_selector("#lb-text [aria-current=true]")
            page.wait_for_timeout(150)
            for selector in (
                "#lb-text [aria-current=true]",
                ".lb-label >> nth=2",
                "[data-act=submit]",
            ):
                rect = page.locator(selector).bounding_box()
                assert rect is not None, selector
                assert rect["y"] >= 0, (round_, selector, rect)
                assert rect["y"] + rect["height"] <= 844, (round_, selector, rect)
            if round_ == 0:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "16_workspace_phone.png"))
            first = shown_task(page)
            page.locator(".lb-label >> nth=0").tap()
            page.wait_for_function(
                "id => document.querySelector('#lb-workspace').dataset.taskId != id", arg=str(first)
            )
    finally:
        context.close()
