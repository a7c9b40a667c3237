"""The workspace stores exactly the spans a user selects, on text outside the BMP too."""

from __future__ import annotations

import pytest

from labeling.models import Annotation
from tests.browser.conftest import log_in
from tests.browser.test_workspace import (
    _saved,
    current_task_id,
    drag_select,
    wait_for_other_task,
)
from tests.factories import add_documents, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUOTE = 'A spokesperson later posted 🇺🇦👍 and said the talks were "productive" for Kyiv.'
TEXT = QUOTE + "\n例えば the cafe\u0301 owner 👩\u200d💻 said: “fine.”"


def test_attribution_on_emoji_flag_zwj_cjk_and_combining_text_stores_the_selection(
    new_page, shot, make_user
) -> None:
    ann = make_user("ann1")
    project = make_project(
        lead=make_user("lead"), annotators=[ann], overlap=1, schemas=[{"kind": "attribution"}]
    )
    add_documents(project, [TEXT])
    page = new_page()
    log_in(page, "ann1")
    page.goto(f"/admin/labeling/annotate/?project={project.pk}&kind=attribution")
    page.wait_for_selector("#lb-text .lb-sent.current")
    # The whole sentence is shown (the old workspace cut it at "…for Ky").
    assert page.locator("#lb-text .lb-sent.current").inner_text() == QUOTE
    task_id = current_task_id(page)

    drag_select(page, "spokesperso")  # snaps to whole words: "spokesperson"
    page.keyboard.press("1")
    drag_select(page, "said")
    page.keyboard.press("2")
    drag_select(page, 'talks were "productive" for Kyiv')
    page.keyboard.press("3")
    page.wait_for_selector("[data-testid=triple]")
    # Second triple: a source with a combining accent and a ZWJ emoji, content in CJK.
    drag_select(page, "cafe\u0301 owner 👩")
    page.keyboard.press("1")
    drag_select(page, "posted")
    page.keyboard.press("2")
    drag_select(page, "例えば")
    page.keyboard.press("3")
    page.wait_for_selector("[data-testid=triple] >> nth=1")
    cells = page.locator("[data-testid=triple] td.source").all_inner_texts()
    assert "cafe\u0301 owner 👩\u200d💻" in cells
    shot(page, "07_workspace_attribution_unicode")
    page.keyboard.press("Enter")
    wait_for_other_task(page, task_id)
    _saved(task_id, "ann1")  # answers are saved in the background, after the next task
    annotation = Annotation.objects.get(task_id=task_id, annotator=ann)
    got = sorted(
        tuple(TEXT[t[r]["start"] : t[r]["end"]] for r in ("source", "cue", "content"))
        for t in annotation.value["attributions"]
    )
    assert got == [
        ("cafe\u0301 owner 👩\u200d💻", "posted", "例えば"),
        ("spokesperson", "said", 'talks were "productive" for Kyiv'),
    ]
