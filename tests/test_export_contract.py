"""Export contract: byte-identical formats, empty splits, typed Parquet, completeness,
unannotated tasks, timestamps and span text outside the BMP."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq
import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from labeling.exporting.files import write_export_file
from labeling.exporting.params import ExportOptions
from labeling.exporting.records import iter_records, stream_export
from labeling.exporting.writers import (
    arrow_type,
    merge_struct_types,
    verify_export,
    write_csv,
    write_jsonl,
)
from labeling.models import Annotation, Document, Sentence, Task
from tests.factories import add_documents, make_project
from tests.golden.records import records as golden_records
from tests.test_exporting import Data, annotate, strip_nulls

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden"
# Emoji, a flag, a ZWJ sequence, CJK and a combining mark (e + U+0301).
UNICODE_TEXT = (
    "A spokesperson posted 🇺🇦👍 and said the talks were “productive”.\n"
    "The engineer 👩‍💻 said 例えば this works.\n"
    "Cafe\u0301 owners said prices rose."
)


def hf_load(*args, **kwargs):
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    datasets = pytest.importorskip("datasets")
    return datasets.load_dataset(*args, **kwargs)


def export_command(*args: str) -> str:
    out = io.StringIO()
    call_command("export_dataset", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# ----------------------------------------------------------------- byte-identical formats


@pytest.mark.parametrize(("writer", "name"), [(write_jsonl, "jsonl"), (write_csv, "csv")])
def test_writers_reproduce_the_files_of_the_previous_encoders_byte_for_byte(writer, name):
    """orjson and csv.writer write what json.JSONEncoder and the hand-made CSV did."""
    expected = (GOLDEN / f"export_records.{name}").read_bytes()
    assert b"".join(writer(golden_records())) == expected


# ----------------------------------------------------------------------- empty splits


@pytest.fixture
def data(make_user) -> Data:
    return Data(make_user, n_docs=3)


def test_load_dataset_reads_a_folder_whose_dev_split_is_empty(data, tmp_path):
    # Three documents at 0.8/0.1/0.1: one split gets no document at all.
    folder = tmp_path / "out"
    export_command(str(data.project.pk), str(folder), "--splits", "train:0.5,dev:0,test:0.5")
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["README.md", "test.jsonl", "train.jsonl"]
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "| dev | none: no records | 0 | |" in card
    ds = hf_load(str(folder), cache_dir=str(tmp_path / "c"))
    assert set(ds) == {"train", "test"}
    expected = list(iter_records(data.project, ExportOptions()))
    assert sum(len(ds[s]) for s in ds) == len(expected)
    front = yaml.safe_load(card.split("---\n")[1])
    examples = {s["name"]: s["num_examples"] for s in front["dataset_info"]["splits"]}
    assert examples == {s: len(ds[s]) for s in ds}


def test_the_demo_export_loads_with_load_dataset(tmp_path):
    """The README's `export_dataset ... out/` then `load_dataset("out/")`, on the demo."""
    call_command("load_demo", verbosity=0)
    from labeling.models import Project

    project = Project.objects.order_by("id").first()
    folder = tmp_path / "out"
    export_command(str(project.pk), str(folder))
    ds = hf_load(str(folder), cache_dir=str(tmp_path / "c"))
    n = len(list(iter_records(project, ExportOptions())))
    assert n
    assert sum(len(ds[s]) for s in ds) == n


def test_a_cut_split_file_fails_load_dataset_and_the_command(data, tmp_path):
    folder = tmp_path / "cut"
    export_command(str(data.project.pk), str(folder), "--splits", "train:0.5,dev:0,test:0.5")
    assert "complete" in export_command("--verify", str(folder))
    train = folder / "train.jsonl"
    lines = train.read_bytes().splitlines(keepends=True)
    train.write_bytes(b"".join(lines[:-1]))  # one whole record lost: still valid JSONL
    datasets = pytest.importorskip("datasets")
    with pytest.raises(datasets.exceptions.NonMatchingSplitsSizesError):
        hf_load(str(folder), cache_dir=str(tmp_path / "c2"))
    with pytest.raises(CommandError, match="INCOMPLETE.*train.jsonl"):
        export_command("--verify", str(folder))


# ------------------------------------------------------------------------ completeness


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_a_truncated_stream_is_detected_by_the_command(data, tmp_path, fmt):
    body = b"".join(stream_export(data.project, fmt, ExportOptions()))
    whole = tmp_path / f"whole.{fmt}"
    whole.write_bytes(body)
    n = len(list(iter_records(data.project, ExportOptions())))
    assert verify_export(whole, fmt) == n
    assert f"complete, {n} records" in export_command("--verify", str(whole))
    if fmt != "parquet":  # the records before the trailer are exactly the file export
        path = tmp_path / f"file.{fmt}"
        write_export_file(data.project, fmt, ExportOptions(), path)
        assert body.startswith(path.read_bytes())
        last = body[body.rindex(b"\n", 0, len(body) - 1) + 1 :]
        assert last.startswith(b'{"export_trailer":' if fmt == "jsonl" else b"#export_trailer,")
    # Cut anywhere, even on a line boundary, the file is refused.
    cuts = {len(body) // 2, len(body) - 1}
    if fmt != "parquet":
        cuts.add(body.rindex(b"\n", 0, len(body) - 1) + 1)  # exactly the trailer missing
        cuts.add(body.index(b"\n") + 1)  # after the first line
    for cut in sorted(cuts):
        partial = tmp_path / f"cut-{cut}.{fmt}"
        partial.write_bytes(body[:cut])
        with pytest.raises(CommandError, match="INCOMPLETE"):
            export_command("--verify", str(partial))


def test_an_altered_record_is_detected(data, tmp_path):
    body = b"".join(stream_export(data.project, "jsonl", ExportOptions()))
    path = tmp_path / "x.jsonl"
    path.write_bytes(body.replace(b'"label":"verifiable"', b'"label":"unverifiable"', 1))
    with pytest.raises(CommandError, match="SHA-256"):
        export_command("--verify", str(path))


def test_streams_above_the_limit_go_through_the_job(data, settings):
    from tests.api_helpers import client_for

    settings.LABELING = {**settings.LABELING, "EXPORT_STREAM_MAX_RECORDS": 3}
    response = client_for(data.lead).get(f"/api/projects/{data.project.pk}/export/")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "export_too_large"
    assert "POST /api/projects/<id>/exports/" in body["detail"]
    small = client_for(data.lead).get(f"/api/projects/{data.project.pk}/export/?split=dev")
    n_dev = len(list(iter_records(data.project, ExportOptions(split="dev"))))
    assert (small.status_code == 200) == (n_dev <= 3)


# ------------------------------------------------------------------ unannotated tasks


def test_include_unannotated_exports_tasks_without_annotations(make_user):
    lead = make_user("lead")
    project = make_project(lead=lead, name="fresh")
    add_documents(project, [UNICODE_TEXT])
    tasks = list(Task.objects.filter(project=project).order_by("id"))
    assert list(iter_records(project, ExportOptions())) == []
    everything = list(iter_records(project, ExportOptions(include_unannotated=True)))
    assert [r["task_id"] for r in everything] == [t.pk for t in tasks]
    assert all(r["annotations"] == [] and r["gold"] is None for r in everything)
    from tests.api_helpers import client_for

    response = client_for(lead).get(
        f"/api/projects/{project.pk}/export/?include_unannotated=true&kind=verifiability"
    )
    lines = b"".join(response.streaming_content).decode().splitlines()
    n_verifiability = sum(t.kind == "verifiability" for t in tasks)
    assert len(lines) == n_verifiability + 1  # and the trailer
    assert json.loads(lines[-1])["export_trailer"]["records"] == n_verifiability
    bad = client_for(lead).get(f"/api/projects/{project.pk}/export/?include_unannotated=maybe")
    assert bad.status_code == 400
    assert "include_unannotated" in bad.json()["errors"]


# ------------------------------------------------------------------------- timestamps

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


@pytest.mark.parametrize("microsecond", [0, 123456])
def test_timestamps_are_iso_8601_with_offset_on_this_database(data, microsecond):
    """Runs on SQLite (embedded) and PostgreSQL (services): the same text on both."""
    when = dt.datetime(2026, 5, 1, 12, 30, 5, microsecond, tzinfo=dt.UTC)
    Annotation.objects.filter(task__project=data.project).update(updated_at=when)
    stamps = {
        a["updated_at"]
        for r in iter_records(data.project, ExportOptions())
        for a in r["annotations"]
    }
    assert stamps == {f"2026-05-01T12:30:05.{microsecond:06d}+00:00"}, connection.vendor
    assert all(ISO_WITH_OFFSET.match(s) for s in stamps)
    assert dt.datetime.fromisoformat(stamps.pop()) == when
    # Another time zone in the session changes nothing.
    with timezone.override("Asia/Tokyo"):
        again = next(iter_records(data.project, ExportOptions()))["annotations"][0]["updated_at"]
    assert again == f"2026-05-01T12:30:05.{microsecond:06d}+00:00"


# ------------------------------------------------------------------ typed Parquet columns


def test_arrow_types_come_from_json_schemas():
    label = {"type": "object", "properties": {"label": {"type": "string"}}}
    assert arrow_type(label) == pa.struct([("label", pa.string())])
    both = merge_struct_types(
        [arrow_type(label), pa.struct([("attributions", pa.list_(pa.int64()))])]
    )
    assert [f.name for f in both] == ["label", "attributions"]
    with pytest.raises(ValueError, match="no Arrow type"):
        arrow_type({"oneOf": []})
    with pytest.raises(ValueError, match="two types"):
        merge_struct_types([arrow_type(label), pa.struct([("label", pa.int64())])])


@pytest.mark.parametrize("kind", [None, "verifiability", "attribution"])
def test_parquet_values_and_gold_read_back_as_the_jsonl_shapes(data, tmp_path, kind):
    options = ExportOptions(kind=kind)
    jsonl, parquet = tmp_path / "x.jsonl", tmp_path / "x.parquet"
    write_export_file(data.project, "jsonl", options, jsonl)
    write_export_file(data.project, "parquet", options, parquet)
    table = pq.read_table(parquet)
    gold_type = table.schema.field("gold").type
    assert pa.types.is_struct(gold_type)  # not a JSON string
    value_type = table.schema.field("annotations").type.value_type.field("value").type
    assert value_type == gold_type
    # pyarrow: the same types and values as pyarrow's own reading of the JSONL.
    from_json = pajson.read_json(jsonl)
    for column in ("gold", "annotations", "tokens", "bio"):
        assert strip_nulls(table.column(column).to_pylist()) == strip_nulls(
            from_json.column(column).to_pylist()
        ), column
    assert {f.name for f in gold_type} == {f.name for f in from_json.schema.field("gold").type}
    # pandas: nested dicts and lists, not strings.
    pandas = pytest.importorskip("pandas")
    frame = pandas.read_parquet(parquet)
    lines = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines()]
    for got, want in zip(frame.to_dict("records"), lines, strict=True):
        assert strip_nulls(got["gold"]) == want["gold"]
        assert [strip_nulls(a["value"]) for a in got["annotations"]] == [
            a["value"] for a in want["annotations"]
        ]
    # datasets: the same features and rows from both files.
    from_parquet = hf_load(
        "parquet", data_files=str(parquet), split="train", cache_dir=str(tmp_path / "p")
    )
    from_jsonl = hf_load(
        "json", data_files=str(jsonl), split="train", cache_dir=str(tmp_path / "j")
    )
    for column in ("gold", "annotations"):
        got, want = list(from_parquet[column]), list(from_jsonl[column])
        assert strip_nulls(got) == strip_nulls(want), column


# ------------------------------------------------------------- text outside the BMP


def test_span_text_outside_the_bmp_survives_every_format(make_user, tmp_path):
    lead, annotator = make_user("lead"), make_user("ann")
    project = make_project(lead=lead, annotators=[annotator], name="unicode")
    add_documents(project, [UNICODE_TEXT])
    document = Document.objects.get(project=project)
    quotes = {}
    for task in Task.objects.filter(project=project, kind="attribution"):
        sentence = Sentence.objects.get(pk=task.sentence_id)
        text, base = sentence.text, sentence.start
        cue = text.index("said")
        value = {
            "attributions": [
                {
                    "source": {"start": base, "end": base + cue - 1},
                    "cue": {"start": base + cue, "end": base + cue + 4},
                    "content": {"start": base + cue + 5, "end": sentence.end},
                }
            ]
        }
        annotate(task, annotator, value)
        quotes[task.pk] = (text[: cue - 1], text[cue + 5 :])
    assert any("🇺🇦" in q[0] for q in quotes.values())
    assert any("👩‍💻" in q[0] for q in quotes.values())
    assert any("e\u0301" in q[0] for q in quotes.values())
    options = ExportOptions(kind="attribution")
    for fmt in ("jsonl", "csv", "parquet"):
        path = tmp_path / f"u.{fmt}"
        write_export_file(project, fmt, options, path)
        if fmt == "jsonl":
            rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
        elif fmt == "csv":
            import csv

            with open(path, encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
            for row in rows:
                row["annotations"] = json.loads(row["annotations"])
                row["task_id"] = int(row["task_id"])
        else:
            rows = pq.read_table(path).to_pylist()
        assert len(rows) == len(quotes)
        for row in rows:
            source, content = quotes[row["task_id"]]
            span = row["annotations"][0]["value"]["attributions"][0]
            assert document.text[span["source"]["start"] : span["source"]["end"]] == source
            assert document.text[span["content"]["start"] : span["content"]["end"]] == content
            assert row["sentence_text"] in UNICODE_TEXT
