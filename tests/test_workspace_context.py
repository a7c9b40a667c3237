"""The workspace's context through the API: paragraph breaks, the document's source, and
the server tokenizer's tokens (in both offset units), for the whole document in constant
queries. Texts have an emoji, a flag, a ZWJ sequence, CJK and combining marks."""

from __future__ import annotations

import random
import string

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.importing.documents import import_documents
from labeling.importing.readers import DocumentRecord
from labeling.models import Document
from labeling.task_context.sentence_window import break_before
from labeling.text.tokenization import GRAPHEME_TOKEN_RE, TOKEN_RE, tokenize
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db

TEXT = (
    "Russian MoD: Moscow Ready\n"
    "Mizintsev said the corridor was open. He added 🇺🇦👍 were seen.\n"
    "\n"
    "例えば東京 the cafe\u0301 owner 👩\u200d💻 said: “fine.”"
)
SCHEMAS = [{"kind": "attribution"}, {"kind": "verifiability"}]


def js_slice(text: str, start: int, end: int) -> str:
    """``text.slice(start, end)`` in JavaScript (UTF-16 code units)."""
    return text.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")


@pytest.fixture
def world(make_user):
    lead, ann = make_user("lead"), make_user("ann")
    project = make_project(lead=lead, annotators=[ann], schemas=SCHEMAS, overlap=1)
    (doc_id,) = add_documents(project, [TEXT])
    Document.objects.filter(pk=doc_id).update(source_url="https://example.org/story")
    return project, ann, doc_id


# --- the tokenizer ---------------------------------------------------------------------


def test_tokens_never_split_a_grapheme_cluster_and_ideographs_stand_alone() -> None:
    text = "Cafe\u0301 said 🇺🇦👍 and 👩\u200d💻 中文 don't 1,844 U.S."
    words = [text[a:b] for a, b in tokenize(text)]
    assert words == [
        "Cafe\u0301", "said", "🇺🇦", "👍", "and", "👩\u200d💻", "中", "文",
        "don't", "1,844", "U.S", ".",
    ]  # fmt: skip


def test_ascii_text_gets_the_same_tokens_from_both_patterns() -> None:
    rng = random.Random(7)
    for _ in range(500):
        text = "".join(rng.choice(string.printable) for _ in range(80))
        plain = [m.span() for m in TOKEN_RE.finditer(text)]
        assert plain == [m.span() for m in GRAPHEME_TOKEN_RE.finditer(text)], text


@pytest.mark.parametrize(
    ("gap", "expected"),
    [("", "none"), (" ", "space"), ("\n", "line"), (" \n ", "line"), ("\n\n", "paragraph"),
     ("\n \n\n", "paragraph")],
)  # fmt: skip
def test_break_before(gap: str, expected: str) -> None:
    assert break_before(gap) == expected


# --- the task payload ------------------------------------------------------------------


def test_attribution_payload_has_breaks_source_and_tokens_in_utf16(world) -> None:
    project, ann, doc_id = world
    api = client_for(ann)
    url = f"/api/projects/{project.pk}/next-task/?kind=attribution&offset_unit=utf16"
    first = api.get(url).json()
    assert first["document"] == {
        "id": doc_id, "title": "Doc 0", "source_url": "https://example.org/story"
    }  # fmt: skip
    assert first["sentence"]["break_before"] == "none"
    assert [s["break_before"] for s in first["next"]] == ["line", "space"]
    # The third sentence (after the flag and emoji) starts a paragraph.
    api.put(
        f"/api/tasks/{first['id']}/annotation/?offset_unit=utf16", {"value": {"attributions": []}}
    )
    api.get(url)  # sentence 2
    second = api.get(url).json()
    assert second["sentence"]["position"] == 1
    assert [s["break_before"] for s in second["next"]] == ["space", "paragraph"]
    words = {
        js_slice(TEXT, t["start"], t["end"])
        for s in [*second["previous"], second["sentence"], *second["next"]]
        for t in s["tokens"]
    }
    assert {"🇺🇦", "👍", "例", "え", "東", "cafe\u0301", "👩\u200d💻", "“", "fine"} <= words
    assert "Mizintsev" in words


def test_label_kinds_get_breaks_but_no_tokens(world) -> None:
    project, ann, _doc = world
    body = client_for(ann).get(f"/api/projects/{project.pk}/next-task/?kind=verifiability").json()
    assert body["sentence"]["break_before"] == "none"
    assert "tokens" not in body["sentence"]


# --- the whole document ----------------------------------------------------------------


def test_document_context_has_every_sentence_with_breaks_and_tokens(world) -> None:
    project, ann, doc_id = world
    api = client_for(ann)
    body = api.get(f"/api/documents/{doc_id}/?offset_unit=utf16").json()
    assert body["source_url"] == "https://example.org/story"
    breaks = [s["break_before"] for s in body["sentences"]]
    assert breaks == ["none", "line", "space", "paragraph"]
    for s in body["sentences"]:
        assert js_slice(TEXT, s["start"], s["end"]) == s["text"]
        for t in s["tokens"]:
            word = js_slice(TEXT, t["start"], t["end"])
            assert word
            assert word.strip() == word
    last = body["sentences"][-1]["tokens"]
    assert [js_slice(TEXT, t["start"], t["end"]) for t in last][:4] == ["例", "え", "ば", "東"]
    cp = api.get(f"/api/documents/{doc_id}/").json()
    assert [[TEXT[t["start"] : t["end"]] for t in s["tokens"]] for s in cp["sentences"]] == [
        [js_slice(TEXT, t["start"], t["end"]) for t in s["tokens"]] for s in body["sentences"]
    ]


def test_document_context_queries_do_not_grow_with_the_document(world, make_user) -> None:
    project, ann, doc_id = world
    long_text = " ".join(["Sentence 👍 here."] * 300)
    records = [DocumentRecord(title="Long", text=long_text, external_id="long")]
    (long_id,) = import_documents(project=project, records=records).created
    api = client_for(ann)
    api.get(f"/api/documents/{doc_id}/?offset_unit=utf16")  # warm up (token lookups)
    counts = []
    for pk in (doc_id, long_id):
        with CaptureQueriesContext(connection) as queries:
            body = api.get(f"/api/documents/{pk}/?offset_unit=utf16").json()
        counts.append(len(queries))
    assert len(body["sentences"]) == 300
    assert counts[0] == counts[1]


def test_document_context_is_404_for_a_stranger(world, make_user) -> None:
    _project, _ann, doc_id = world
    stranger = make_user("stranger")
    assert client_for(stranger).get(f"/api/documents/{doc_id}/").status_code == 404
