"""Export records and files: round trips through datasets, pandas and pyarrow, filters, splits."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from labeling.exporting.files import write_export_file
from labeling.exporting.params import ExportOptions, parse_export_params
from labeling.exporting.pseudonyms import pseudonym
from labeling.exporting.records import item_agreement, iter_records, stream_export
from labeling.exporting.writers import FIELDS
from labeling.models import Annotation, Document, GoldLabel, Sentence, Task
from labeling.review.gold import adjudicate, aggregate_gold
from labeling.text.tokenization import ROLES, role_bio_tags, token_in_span, tokenize
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db

TRICKY = (
    'He said "no, never", then left.\n'
    "“We will not back down,” the minister said.\n"
    "Zürich, 東京 and São Paulo agreed; costs rose 3.5% — officials said."
)
LABELS = ["verifiable", "unverifiable", "not_a_claim"]
STANCE = ["against", "neutral", "favor"]


def annotate(task: Task, user, value: dict, *, when: dt.datetime | None = None) -> Annotation:
    """Store an annotation directly (these tests are about exporting, not submitting)."""
    annotation = Annotation.objects.create(task=task, annotator=user, value=value, lead_time_ms=900)
    if when is not None:
        Annotation.objects.filter(pk=annotation.pk).update(updated_at=when)
    return annotation


def quote_triple(sentence: Sentence) -> dict:
    """source = "the minister", cue = "said", content = the quote, in document offsets."""
    text, base = sentence.text, sentence.start
    s = text.index("the minister")
    c = text.index("said")
    return {
        "source": {"start": base + s, "end": base + s + len("the minister")},
        "cue": {"start": base + c, "end": base + c + 4},
        "content": {"start": base + 1, "end": base + text.index("”")},
    }


class Data:
    """A project of several documents labelled by three annotators."""

    def __init__(self, make_user, n_docs: int = 6, prefix: str = "") -> None:
        self.lead = make_user(f"{prefix}lead")
        self.annotators = [make_user(f"{prefix}ann{i}") for i in range(3)]
        self.project = make_project(
            lead=self.lead, annotators=self.annotators, overlap=3, name=f"{prefix}P"
        )
        texts = [f"{TRICKY}\nStory {prefix}{d}." for d in range(n_docs)]
        add_documents(self.project, texts)
        Document.objects.filter(project=self.project).update(title='Title, "quoted"\nline two')
        a, b, c = self.annotators
        old = timezone.make_aware(dt.datetime(2024, 1, 10, 12))
        for i, task in enumerate(Task.objects.filter(project=self.project).order_by("id")):
            when = old if i % 2 else None
            if task.kind == "verifiability":
                annotate(task, a, {"label": LABELS[i % 3]}, when=when)
                annotate(task, b, {"label": LABELS[i % 3]}, when=when)
                if i % 4 == 0:
                    annotate(task, c, {"label": LABELS[(i + 1) % 3]}, when=when)
            elif task.kind == "stance" and i % 3 == 0:
                annotate(task, a, {"label": STANCE[i % 3]}, when=when)
                annotate(task, c, {"label": STANCE[(i + 1) % 3]}, when=when)
            elif task.kind == "attribution":
                sentence = Sentence.objects.get(pk=task.sentence_id)
                value = (
                    {"attributions": [quote_triple(sentence)]}
                    if "minister" in sentence.text
                    else {"attributions": []}
                )
                annotate(task, a, value, when=when)
                annotate(task, b, value, when=when)
        aggregate_gold(project=self.project, kind="verifiability")
        aggregate_gold(project=self.project, kind="attribution")
        self.adjudicated = Task.objects.filter(project=self.project, kind="stance").first()
        adjudicate(task=self.adjudicated, value={"label": "favor"}, user=self.lead, note="x")


@pytest.fixture
def data(make_user) -> Data:
    return Data(make_user)


def records(project, **options: Any) -> list[dict]:
    return list(iter_records(project, ExportOptions(**options)))


def strip_nulls(value: Any) -> Any:
    """Drop null members of objects (columnar readers add the other kinds' keys as null).

    pandas reads Parquet lists as numpy arrays: they become lists.
    """
    if hasattr(value, "tolist") and not isinstance(value, str | bytes | int | float):
        value = value.tolist()
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def canonical(record: dict) -> dict:
    """A record in one comparable shape whichever format it was read back from."""
    out = dict(record)
    for key in ("annotations", "gold", "tokens", "bio"):
        if isinstance(out[key], str):
            out[key] = json.loads(out[key]) if out[key] else None
        elif isinstance(out[key], float) and math.isnan(out[key]):
            out[key] = None
    for key in ("gold_confidence", "modal_share", "gold_method", "target", "document_external_id"):
        if isinstance(out[key], float) and math.isnan(out[key]):
            out[key] = None
    if out["target"] is None:
        out["target"] = ""
    annotations = []
    for a in out["annotations"]:
        a = dict(a)
        if isinstance(a["value"], str):
            a["value"] = json.loads(a["value"])
        annotations.append(strip_nulls(a))
    out["annotations"] = annotations
    out["gold"] = strip_nulls(out["gold"])
    out["bio"] = strip_nulls(out["bio"])
    for key in ("task_id", "document_id", "sentence_id", "sentence_position"):
        out[key] = int(out[key])
    out["sentence_start"], out["sentence_end"] = (
        int(out["sentence_start"]),
        int(out["sentence_end"]),
    )
    return out


def expected_from_db(data: Data) -> dict[int, dict]:
    """What the export must say about each task, read from the database row by row."""
    out = {}
    for task in Task.objects.filter(project=data.project).select_related("sentence", "document"):
        annotations = list(Annotation.objects.filter(task=task).order_by("annotator_id"))
        gold = GoldLabel.objects.filter(task=task).first()
        if not annotations and gold is None:
            continue
        out[task.pk] = {
            "document_id": task.document_id,
            "document_title": task.document.title,
            "sentence_text": task.sentence.text,
            "sentence_start": task.sentence.start,
            "kind": task.kind,
            "target": task.target,
            "annotations": [
                (pseudonym(data.project.pk, a.annotator_id), a.value) for a in annotations
            ],
            "gold": gold.value if gold else None,
            "gold_method": gold.method if gold else None,
        }
    return out


def check_against_db(data: Data, loaded: list[dict]) -> None:
    expected = expected_from_db(data)
    got = {r["task_id"]: canonical(r) for r in loaded}
    assert set(got) == set(expected)
    for task_id, want in expected.items():
        record = got[task_id]
        for key in ("document_id", "document_title", "sentence_text", "kind", "target"):
            assert record[key] == want[key], (task_id, key)
        assert record["gold"] == want["gold"]
        assert record["gold_method"] == want["gold_method"]
        assert [(a["annotator"], a["value"]) for a in record["annotations"]] == want["annotations"]
        assert record["sentence_text"] == "".join(record["sentence_text"])
        assert record["split"] in {"train", "dev", "test"}


def test_records_have_the_contract_fields_and_match_the_database(data):
    out = records(data.project)
    assert out
    assert all(tuple(r) == FIELDS for r in out)
    check_against_db(data, out)
    by_id = {r["task_id"]: r for r in out}
    adjudicated = by_id[data.adjudicated.pk]
    assert (adjudicated["gold"], adjudicated["gold_method"]) == ({"label": "favor"}, "adjudicated")
    assert adjudicated["gold_confidence"] is None
    majority = next(r for r in out if r["gold_method"] == "majority")
    assert 0 < majority["gold_confidence"] <= 1
    # No annotator's username leaks by default.
    blob = json.dumps(out)
    assert not any(u.username in blob for u in data.annotators)


def test_item_agreement_is_the_modal_share():
    assert item_agreement("verifiability", [{"label": "a"}]) is None
    assert item_agreement("verifiability", [{"label": "a"}, {"label": "a"}]) == 1.0
    assert item_agreement("verifiability", [{"label": "a"}, {"label": "b"}]) == 0.5
    three = [{"label": "a"}, {"label": "a"}, {"label": "b"}]
    assert item_agreement("stance", three) == pytest.approx(2 / 3)
    t = {
        "source": {"start": 0, "end": 1},
        "cue": {"start": 2, "end": 3},
        "content": {"start": 4, "end": 5},
    }
    same = [{"attributions": [t]}, {"attributions": [t]}, {"attributions": []}]
    assert item_agreement("attribution", same) == pytest.approx(2 / 3)


def test_pseudonyms_are_stable_per_project_and_usernames_only_on_request(data, make_user):
    first = {a["annotator"] for r in records(data.project) for a in r["annotations"]}
    again = {a["annotator"] for r in records(data.project) for a in r["annotations"]}
    assert first == again
    assert all(p.startswith("annotator-") and len(p) == len("annotator-") + 16 for p in first)
    assert pseudonym(data.project.pk, data.annotators[0].pk) != pseudonym(
        data.project.pk + 1, data.annotators[0].pk
    )
    revealed = {
        a["annotator"]
        for r in records(data.project, reveal_annotators=True)
        for a in r["annotations"]
    }
    assert revealed == {u.username for u in data.annotators}


def test_attribution_records_carry_tokens_and_bio_tags_from_gold(data):
    out = records(data.project, kind="attribution")
    assert {r["kind"] for r in out} == {"attribution"}
    quoted = [r for r in out if "minister" in r["sentence_text"]]
    assert quoted
    for r in out:
        assert r["tokens"] == [
            list(t) for t in tokenize(r["sentence_text"], offset=r["sentence_start"])
        ]
        assert set(r["bio"]) == {"source", "cue", "content"}
        assert all(len(tags) == len(r["tokens"]) for tags in r["bio"].values())
    r = quoted[0]
    [triple] = r["gold"]["attributions"]
    text_of = {
        tuple(t): r["sentence_text"][t[0] - r["sentence_start"] : t[1] - r["sentence_start"]]
        for t in r["tokens"]
    }
    cue_tokens = [
        text_of[tuple(t)] for t, tag in zip(r["tokens"], r["bio"]["cue"], strict=True) if tag != "O"
    ]
    source_tokens = [
        text_of[tuple(t)]
        for t, tag in zip(r["tokens"], r["bio"]["source"], strict=True)
        if tag != "O"
    ]
    assert cue_tokens == ["said"]
    assert source_tokens == ["the", "minister"]
    assert r["bio"]["source"].count("B") == 1
    assert triple["cue"]["end"] - triple["cue"]["start"] == 4
    # Non-attribution records have neither.
    assert all(
        r["tokens"] is None and r["bio"] is None for r in records(data.project, kind="stance")
    )


def test_splits_are_by_document_disjoint_and_reproducible(make_user):
    data = Data(make_user, n_docs=20)
    out = records(data.project)
    split_of: dict[int, set[str]] = {}
    for r in out:
        split_of.setdefault(r["document_id"], set()).add(r["split"])
    assert all(len(s) == 1 for s in split_of.values())
    counts = {
        name: sum(1 for s in split_of.values() if name in s) for name in ("train", "dev", "test")
    }
    assert counts == {"train": 16, "dev": 2, "test": 2}
    assert [r["split"] for r in records(data.project)] == [r["split"] for r in out]
    other_seed = [r["split"] for r in records(data.project, seed=1)]
    assert other_seed != [r["split"] for r in out]
    custom = records(data.project, ratios={"train": 0.5, "test": 0.5})
    assert {r["split"] for r in custom} == {"train", "test"}
    only_dev = records(data.project, split="dev")
    assert {r["split"] for r in only_dev} == {"dev"}
    assert len(only_dev) == sum(1 for r in out if r["split"] == "dev")
    # Filters do not move documents between splits.
    filtered = {r["document_id"]: r["split"] for r in records(data.project, kind="stance")}
    assert all(split_of[doc] == {split} for doc, split in filtered.items())


def test_kind_filter(data):
    for kind in ("verifiability", "stance", "attribution"):
        out = records(data.project, kind=kind)
        assert out
        assert {r["kind"] for r in out} == {kind}


def test_min_agreement_filter(data):
    everything = records(data.project)
    high = records(data.project, min_agreement=0.9)
    assert high
    assert all(r["modal_share"] is not None and r["modal_share"] >= 0.9 for r in high)
    expected = [
        r["task_id"] for r in everything if r["modal_share"] is not None and r["modal_share"] >= 0.9
    ]
    assert [r["task_id"] for r in high] == expected
    assert len(high) < len(everything)
    assert len(records(data.project, min_agreement=0.0)) == sum(
        1 for r in everything if r["modal_share"] is not None
    )


def test_only_adjudicated_filter(data):
    out = records(data.project, only_adjudicated=True)
    assert [r["task_id"] for r in out] == [data.adjudicated.pk]


def test_date_range_filter_selects_tasks_with_an_annotation_updated_in_range(data):
    start = timezone.make_aware(dt.datetime(2024, 1, 10))
    end = timezone.make_aware(dt.datetime(2024, 1, 10, 23, 59, 59))
    old = records(data.project, updated_from=start, updated_to=end)
    assert old
    in_range = set(
        Annotation.objects.filter(updated_at__range=(start, end)).values_list("task_id", flat=True)
    )
    assert {r["task_id"] for r in old} == in_range
    recent = records(data.project, updated_from=timezone.now() - dt.timedelta(hours=1))
    assert {r["task_id"] for r in recent}.isdisjoint(in_range)
    assert not records(data.project, updated_to=start - dt.timedelta(days=1))


def test_annotator_filter(data):
    c = data.annotators[2]
    out = records(data.project, annotator_id=c.pk)
    assert out
    assert {r["task_id"] for r in out} == set(
        Annotation.objects.filter(annotator=c).values_list("task_id", flat=True)
    )
    # Records stay whole: other annotators' annotations of the same task are included.
    assert any(len(r["annotations"]) > 1 for r in out)


def test_parse_export_params_accepts_every_filter(data):
    c = data.annotators[2]
    fmt, options = parse_export_params(
        data.project,
        {
            "format": "csv",
            "kind": "stance",
            "min_agreement": "0.5",
            "only_adjudicated": "true",
            "updated_from": "2024-01-01",
            "updated_to": "2024-01-31",
            "annotator": c.username,
            "split": "test",
            "splits": "train:0.6,dev:0.2,test:0.2",
            "seed": "3",
            "reveal_annotators": "1",
        },
    )
    assert fmt == "csv"
    assert options.kind == "stance"
    assert options.min_agreement == 0.5
    assert options.only_adjudicated
    assert options.updated_from == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert options.updated_to.date() == dt.date(2024, 1, 31)
    assert options.updated_to.hour == 23
    assert options.annotator_id == c.pk
    assert options.ratios == {"train": 0.6, "dev": 0.2, "test": 0.2}
    assert (options.split, options.seed, options.reveal_annotators) == ("test", 3, True)
    # A pseudonym from an earlier export names the same annotator.
    _, by_pseudonym = parse_export_params(
        data.project, {"annotator": pseudonym(data.project.pk, c.pk)}
    )
    assert by_pseudonym.annotator_id == c.pk
    assert ExportOptions.from_json(options.to_json()) == options


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "xml"}, "format"),
        ({"kind": "sentiment"}, "kind"),
        ({"min_agreement": "high"}, "min_agreement"),
        ({"min_agreement": "1.5"}, "min_agreement"),
        ({"min_agreement": "nan"}, "min_agreement"),
        ({"updated_from": "yesterday"}, "updated_from"),
        ({"updated_to": "2024-13-45"}, "updated_to"),
        ({"updated_from": "2024-02-01", "updated_to": "2024-01-01"}, "updated_to"),
        ({"only_adjudicated": "maybe"}, "only_adjudicated"),
        ({"annotator": "nobody"}, "annotator"),
        ({"split": "holdout"}, "split"),
        ({"splits": "train:0.9,test:0.2"}, "splits"),
        ({"splits": "train=1"}, "splits"),
        ({"seed": "x"}, "seed"),
        ({"min_agreemnt": "0.5"}, "min_agreemnt"),
    ],
)
def test_bad_parameters_are_rejected_naming_the_parameter(data, params, field):
    with pytest.raises(ValidationError) as exc:
        parse_export_params(data.project, params)
    assert list(exc.value.detail) == [field]


def _load_with_datasets(path: str, loader: str, tmp_path) -> list[dict]:
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset(
        loader, data_files=path, split="train", cache_dir=str(tmp_path / "hf-cache")
    )
    return ds.to_list()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_round_trip_through_datasets_pandas_and_pyarrow(data, fmt, tmp_path):
    pd = pytest.importorskip("pandas")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / f"export.{fmt}"
    n = write_export_file(data.project, fmt, ExportOptions(), path)
    assert n == len(expected_from_db(data))

    loader = {"jsonl": "json", "csv": "csv", "parquet": "parquet"}[fmt]
    loaded = _load_with_datasets(str(path), loader, tmp_path)
    assert len(loaded) == n
    check_against_db(data, loaded)

    if fmt == "jsonl":
        frame = pd.read_json(path, lines=True)
    elif fmt == "csv":
        frame = pd.read_csv(path, keep_default_na=True)
    else:
        frame = pd.read_parquet(path)
        table = pq.read_table(path)
        assert table.num_rows == n
        check_against_db(data, table.to_pylist())
    assert list(frame.columns) == list(FIELDS)
    check_against_db(data, frame.to_dict("records"))


def without_trailer(body: bytes) -> bytes:
    """A streamed JSONL or CSV export without its last (trailer) line."""
    return body[: body.rindex(b"\n", 0, len(body) - 1) + 1] if body.count(b"\n") > 1 else b""


def test_csv_quotes_quotes_commas_newlines_and_unicode(data):
    streamed = b"".join(stream_export(data.project, "csv", ExportOptions(kind="verifiability")))
    body = without_trailer(streamed)
    text = body.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    sentences = {r["sentence_text"] for r in rows}
    assert 'He said "no, never", then left.' in sentences
    assert "Zürich, 東京 and São Paulo agreed; costs rose 3.5% — officials said." in sentences
    assert {r["document_title"] for r in rows} == {'Title, "quoted"\nline two'}
    assert '"He said ""no, never"", then left."' in text
    assert '"Title, ""quoted""\nline two"' in text
    for r in rows:
        assert isinstance(json.loads(r["annotations"]), list)


def _export_queries(make_user, n_docs: int, prefix: str, fmt: str) -> tuple[int, int]:
    data = Data(make_user, n_docs=n_docs, prefix=prefix)
    with CaptureQueriesContext(connection) as ctx:
        for _ in stream_export(data.project, fmt, ExportOptions(), chunk_size=20):
            pass
    return len(ctx.captured_queries), len(expected_from_db(data))


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_query_count_does_not_grow_with_the_export(make_user, fmt):
    small, n_small = _export_queries(make_user, 2, "s", fmt)
    large, n_large = _export_queries(make_user, 12, "l", fmt)
    assert n_large > 5 * n_small
    assert n_large > 4 * 20
    # chunk_size=20 makes the large export span many chunks: still the same queries.
    assert small == large
    # documents, the kinds (Parquet value type), the predictions, two streamed reads
    # (+ BEGIN/COMMIT on PG)
    assert small <= 7


def test_unannotated_tasks_are_not_exported(make_user):
    project = make_project(name="empty")
    add_documents(project)
    assert records(project) == []
    body = b"".join(stream_export(project, "jsonl", ExportOptions()))
    assert json.loads(body) == {
        "export_trailer": {"records": 0, "sha256": hashlib.sha256(b"").hexdigest()}
    }


def reference_bio_tags(tokens, attributions) -> dict[str, list[str]]:
    """The quadratic definition: every token against every span of the role."""
    out = {}
    for role in ROLES:
        tags = ["O"] * len(tokens)
        for span in sorted((a[role]["start"], a[role]["end"]) for a in attributions if a[role]):
            first = True
            for i, token in enumerate(tokens):
                if token_in_span(token, span):
                    if first or tags[i] == "O":
                        tags[i] = "B" if first else "I"
                    first = False
        out[role] = tags
    return out


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.text(alphabet="ab ,.“”", min_size=0, max_size=6), max_size=12),
    raw_spans=st.lists(
        st.tuples(st.integers(0, 80), st.integers(1, 20), st.sampled_from(ROLES)), max_size=6
    ),
)
def test_bio_tags_equal_the_quadratic_definition(words, raw_spans):
    text = " ".join(words)
    tokens = tokenize(text, offset=7)
    attributions = []
    for start, length, role in raw_spans:
        span = {"start": 7 + start, "end": 7 + start + length}
        attributions.append({r: span if r == role else None for r in ROLES})
    assert role_bio_tags(tokens, attributions) == reference_bio_tags(tokens, attributions)


def test_updated_at_has_six_fraction_digits_and_the_utc_offset(make_user):
    """Whole seconds, a trimmed fraction and another zone all read back the same way.

    PostgreSQL reads the timestamps in binary and formats them in Python; SQLite through
    the ORM: both give ISO 8601 in UTC with microseconds and ``+00:00``.
    """
    users = [make_user(f"ts{i}") for i in range(3)]
    project = make_project(annotators=users, overlap=3)
    add_documents(project, ["One sentence only."])
    task = Task.objects.get(project=project, kind="verifiability")
    stamps = [
        dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=dt.UTC),
        dt.datetime(2024, 5, 1, 14, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    ]
    for user, when in zip(users, stamps, strict=True):
        annotate(task, user, {"label": "verifiable"}, when=when)
    (record,) = [r for r in iter_records(project, ExportOptions()) if r["task_id"] == task.pk]
    assert [a["updated_at"] for a in record["annotations"]] == [
        "2024-05-01T12:00:00.000000+00:00",
        "2024-05-01T12:00:00.500000+00:00",
        "2024-05-01T12:00:00.123456+00:00",
    ]
