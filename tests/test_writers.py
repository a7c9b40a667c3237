"""Streaming writers: round trips through json, pandas, pyarrow and datasets (offline),
CSV quoting, empty inputs, bounded memory and streaming before the input is exhausted."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
import math
import os
import subprocess
import sys
import tracemalloc

os.environ["HF_DATASETS_OFFLINE"] = "1"  # before datasets is imported anywhere
os.environ["HF_HUB_OFFLINE"] = "1"

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling.exporting.writers import (
    CONTENT_TYPES,
    FIELDS,
    FILE_EXTENSIONS,
    FORMATS,
    PARQUET_SCHEMA,
    write_csv,
    write_jsonl,
    write_parquet,
    write_records,
)

NESTED = ("annotations", "gold", "tokens", "bio", "predictions")

TRICKY_TEXTS = [
    'He said "no", then left.',
    "Commas, commas, commas",
    "Line one\nline two",
    "Windows\r\nline end",
    "Emoji 🎉🇺🇦 and CJK 漢字",
    "مرحبا بالعالم — RTL text",
    "שלום עולם",
    "Tab\tseparated and a backslash \\ and a quote '",
    "",
    " leading and trailing spaces ",
    '""',
    "=SUM(A1:A2)",
    "\u200f\u200e zero-width marks \ufeff bom inside",
]


def make_record(i: int) -> dict:
    kind = ("verifiability", "stance", "attribution")[i % 3]
    text = TRICKY_TEXTS[i % len(TRICKY_TEXTS)]
    base = {
        "task_id": i + 1,
        "document_id": i // 4 + 1,
        "document_external_id": f"ext,{i // 4}",
        "document_title": f'Title "{i // 4}", part\n2',
        "sentence_id": 1000 + i,
        "sentence_position": i % 4,
        "sentence_start": 10 * i,
        "sentence_end": 10 * i + len(text),
        "sentence_text": text,
        "kind": kind,
        "target": "Ukrainian government" if kind == "stance" else "",
        "split": ("train", "dev", "test")[i % 3],
        "annotations": [],
        "gold": None,
        "gold_method": None,
        "gold_confidence": None,
        "modal_share": None,
        "tokens": None,
        "bio": None,
        "predictions": [],
    }
    if kind == "attribution":
        value = {
            "attributions": [
                {
                    "source": {"start": 10 * i, "end": 10 * i + 2},
                    "cue": {"start": 10 * i + 3, "end": 10 * i + 4},
                    "content": {"start": 10 * i + 5, "end": 10 * i + 9},
                }
            ]
        }
        base["tokens"] = [[10 * i, 10 * i + 2], [10 * i + 3, 10 * i + 4]]
        base["bio"] = {"source": ["B", "O"], "cue": ["O", "B"], "content": ["O", "O"]}
    else:
        value = {"label": ("verifiable", "not_a_claim", "favor")[i % 3]}
    if i % 4 == 1:  # a model's prediction, with and without a score
        base["predictions"] = [
            {"model": "m1", "value": value, "score": 0.5},
            {"model": "m2", "value": value, "score": None},
        ]
    if i % 5 != 4:  # every fifth task has no annotation yet
        base["annotations"] = [
            {
                "annotator": name,
                "value": value,
                "lead_time_ms": None if name == "zoë" else 1000 + i,
                "from_suggestion": kind == "attribution" and name == "alice",
                "updated_at": f"2026-11-{(i % 28) + 1:02d}T12:00:00+00:00",
            }
            for name in ("alice", "zoë")
        ]
        base["gold"] = value
        base["gold_method"] = "majority" if i % 2 else "adjudicated"
        base["gold_confidence"] = 1.0 if i % 2 == 0 else 0.5 + (i % 7) / 20
        base["modal_share"] = 1.0
    return base


RECORDS = [make_record(i) for i in range(60)]


def as_parquet_row(record: dict) -> dict:
    """What the Parquet schema stores: JSON strings for annotation, gold and predicted values."""
    row = dict(record)
    row["annotations"] = [
        {**a, "value": json.dumps(a["value"], ensure_ascii=False, separators=(",", ":"))}
        for a in record["annotations"]
    ]
    row["gold"] = (
        None
        if record["gold"] is None
        else json.dumps(record["gold"], ensure_ascii=False, separators=(",", ":"))
    )
    row["predictions"] = [
        {**p, "value": json.dumps(p["value"], ensure_ascii=False, separators=(",", ":"))}
        for p in record["predictions"]
    ]
    return row


def join(chunks) -> bytes:
    return b"".join(chunks)


def parsed_csv_frame(frame: pd.DataFrame) -> list[dict]:
    """CSV rows back to records: JSON columns parsed, NaN to None, "" text to ""."""
    out = []
    for row in frame.to_dict(orient="records"):
        rec = {}
        for key, value in row.items():
            if isinstance(value, float) and math.isnan(value):
                value = None
            if key in NESTED:
                value = json.loads(value) if value is not None else None
            rec[key] = value
        out.append(rec)
    return out


def comparable_csv(record: dict) -> dict:
    """A record as CSV can tell it: empty strings and None are both null."""
    return {k: (None if v == "" else v) for k, v in record.items()}


def load_hf(tmp_path, loader: str, name: str, data: bytes):
    from datasets import load_dataset

    path = tmp_path / name
    path.write_bytes(data)
    return load_dataset(
        loader, data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache")
    )


# --------------------------------------------------------------------------- JSONL


def test_jsonl_round_trip_with_json():
    data = join(write_jsonl(iter(RECORDS)))
    lines = data.decode("utf-8").split("\n")
    assert lines[-1] == ""  # every line ends with a newline
    assert [json.loads(line) for line in lines[:-1]] == RECORDS
    assert "🎉" in data.decode("utf-8")  # not \\u-escaped
    assert list(json.loads(lines[0])) == list(FIELDS)


def test_jsonl_round_trip_with_pandas_and_datasets(tmp_path):
    data = join(write_jsonl(RECORDS))
    frame = pd.read_json(io.BytesIO(data), lines=True, dtype=False)
    assert frame["sentence_text"].tolist() == [r["sentence_text"] for r in RECORDS]
    assert frame["task_id"].tolist() == [r["task_id"] for r in RECORDS]
    ds = load_hf(tmp_path, "json", "export.jsonl", data)
    assert ds.num_rows == len(RECORDS)
    assert ds["sentence_text"] == [r["sentence_text"] for r in RECORDS]
    assert ds["document_title"] == [r["document_title"] for r in RECORDS]
    for got, want in zip(ds, RECORDS, strict=True):
        assert [a["annotator"] for a in got["annotations"]] == [
            a["annotator"] for a in want["annotations"]
        ]
        assert got["gold_confidence"] == want["gold_confidence"]
        assert got["tokens"] == want["tokens"]
        assert got["bio"] == want["bio"]


def test_jsonl_fills_missing_fields_and_rejects_unknown_ones():
    (line,) = join(write_jsonl([{"task_id": 1, "sentence_text": "x"}])).decode().splitlines()
    rec = json.loads(line)
    assert list(rec) == list(FIELDS)
    assert rec["annotations"] == []
    assert rec["gold"] is None
    with pytest.raises(ValueError, match="unknown field.*sentance_text"):
        join(write_jsonl([{"task_id": 1, "sentance_text": "typo"}]))


def test_jsonl_nan_agreement_becomes_null_and_datetimes_are_iso():
    record = dict(RECORDS[0], modal_share=float("nan"))
    record["annotations"] = [
        dict(record["annotations"][0], updated_at=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC))
    ]
    out = json.loads(join(write_jsonl([record])))
    assert out["modal_share"] is None
    assert out["annotations"][0]["updated_at"] == "2026-01-02T03:04:00+00:00"


def test_jsonl_matches_the_public_json_encoder_and_writes_nan_as_null():
    public = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    expected = "".join(public.encode(r) + "\n" for r in RECORDS).encode("utf-8")
    assert join(write_jsonl(RECORDS)) == expected
    odd = dict(RECORDS[0], gold={"label": "x", "score": float("nan")})
    assert json.loads(join(write_jsonl([odd])))["gold"] == {"label": "x", "score": None}
    with pytest.raises(TypeError):
        join(write_jsonl([dict(RECORDS[0], gold={"label": object()})]))


def test_jsonl_empty_input_is_an_empty_file():
    assert join(write_jsonl([])) == b""


def test_jsonl_chunks_are_about_64kb():
    chunks = list(write_jsonl(make_record(i % 60) for i in range(5000)))
    assert len(chunks) > 5
    assert all(60_000 < len(c) < 200_000 for c in chunks[:-1])
    assert all(c.endswith(b"\n") for c in chunks)


# --------------------------------------------------------------------------- CSV


def test_csv_round_trip_with_csv_module():
    data = join(write_csv(RECORDS))
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.startswith(b"task_id,document_id,")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == list(FIELDS)
    assert len(rows) == len(RECORDS) + 1
    for row, record in zip(rows[1:], RECORDS, strict=True):
        got = dict(zip(FIELDS, row, strict=True))
        assert got["sentence_text"] == record["sentence_text"]  # incl. \r\n inside
        assert got["document_title"] == record["document_title"]
        assert json.loads(got["annotations"]) == record["annotations"]
        for field in ("gold", "tokens", "bio"):
            assert (json.loads(got[field]) if got[field] else None) == record[field]


def test_csv_rfc4180_quoting():
    record = dict(RECORDS[0], sentence_text='a "quoted", word\nnext', document_title="plain")
    data = join(write_csv([record])).decode("utf-8")
    assert '"a ""quoted"", word\nnext"' in data
    assert ",plain," in data  # unquoted when nothing needs quoting
    assert data.endswith("\r\n")
    assert data.count("\r\n") == 2  # header and the one record; the inner \n stays LF


def reference_csv(records) -> bytes:
    """What the standard csv module writes for the same cells (RFC 4180, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(FIELDS)
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    for record in records:
        row = []
        for field in FIELDS:
            value = record.get(field)
            if field in NESTED:
                value = "" if value is None else json.dumps(value, **compact)
            row.append("" if value is None else value)
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def test_csv_is_byte_identical_to_the_csv_module():
    assert join(write_csv(RECORDS)) == reference_csv(RECORDS)


@given(texts=st.lists(st.text(), min_size=1, max_size=5))
@settings(max_examples=200, deadline=None)
def test_csv_quoting_matches_the_csv_module_on_any_text(texts):
    records = [
        dict(RECORDS[i % 3], sentence_text=t, document_title=t[::-1]) for i, t in enumerate(texts)
    ]
    data = join(write_csv(records))
    assert data == reference_csv(records)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert [row[FIELDS.index("sentence_text")] for row in rows[1:]] == texts


def test_csv_round_trip_with_pandas():
    data = join(write_csv(RECORDS))
    frame = pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""], dtype=str)
    assert list(frame.columns) == list(FIELDS)
    texts = frame["sentence_text"].fillna("").tolist()
    assert texts == [r["sentence_text"] for r in RECORDS]
    back = parsed_csv_frame(pd.read_csv(io.BytesIO(data)))
    assert back == [comparable_csv(r) for r in RECORDS]


def test_csv_with_bom_loads_in_pandas_and_datasets(tmp_path):
    data = join(write_csv(RECORDS, bom=True))
    assert data.startswith(b"\xef\xbb\xbftask_id,")
    frame = pd.read_csv(io.BytesIO(data))
    assert frame.columns[0] == "task_id"
    ds = load_hf(tmp_path, "csv", "bom.csv", data)
    assert ds.column_names[0] == "task_id"


def test_csv_round_trip_with_datasets(tmp_path):
    ds = load_hf(tmp_path, "csv", "export.csv", join(write_csv(RECORDS)))
    assert ds.column_names == list(FIELDS)
    back = parsed_csv_frame(ds.to_pandas())
    assert back == [comparable_csv(r) for r in RECORDS]


def test_csv_empty_input_is_the_header():
    data = join(write_csv([]))
    assert data == (",".join(FIELDS) + "\r\n").encode()
    frame = pd.read_csv(io.BytesIO(data))
    assert list(frame.columns) == list(FIELDS)
    assert len(frame) == 0


def test_csv_rejects_infinite_numbers():
    with pytest.raises(ValueError, match="non-finite"):
        join(write_csv([dict(RECORDS[0], modal_share=float("inf"))]))


# --------------------------------------------------------------------------- Parquet


def test_parquet_round_trip_with_pyarrow():
    data = join(write_parquet(RECORDS, batch_size=16))
    file = pq.ParquetFile(io.BytesIO(data))
    assert file.num_row_groups == 4  # 16 + 16 + 16 + 12
    table = file.read()
    assert table.schema.equals(PARQUET_SCHEMA, check_metadata=False)
    assert table.schema.metadata[b"labeling.format_version"] == b"1"
    assert table.to_pylist() == [as_parquet_row(r) for r in RECORDS]


def test_parquet_round_trip_with_pandas():
    frame = pd.read_parquet(io.BytesIO(join(write_parquet(RECORDS))))
    assert list(frame.columns) == list(FIELDS)
    assert frame["sentence_text"].tolist() == [r["sentence_text"] for r in RECORDS]
    assert frame["task_id"].dtype == "int64"
    for got, want in zip(frame.to_dict(orient="records"), RECORDS, strict=True):
        assert [json.loads(a["value"]) for a in got["annotations"]] == [
            a["value"] for a in want["annotations"]
        ]
        # pandas 3 reads string columns as its str dtype: null is NaN there
        assert (None if pd.isna(got["gold"]) else json.loads(got["gold"])) == want["gold"]
        if want["gold_confidence"] is None:
            assert math.isnan(got["gold_confidence"])
        else:
            assert got["gold_confidence"] == want["gold_confidence"]


def test_parquet_round_trip_with_datasets(tmp_path):
    ds = load_hf(tmp_path, "parquet", "export.parquet", join(write_parquet(RECORDS)))
    assert ds.column_names == list(FIELDS)
    assert [dict(row) for row in ds] == [as_parquet_row(r) for r in RECORDS]


def test_parquet_empty_input_has_the_schema():
    # (datasets.load_dataset refuses any empty split, "corresponds to no data", whatever
    # the format, so it is not asked here.)
    data = join(write_parquet([]))
    table = pq.read_table(io.BytesIO(data))
    assert table.num_rows == 0
    assert table.schema.equals(PARQUET_SCHEMA, check_metadata=False)
    frame = pd.read_parquet(io.BytesIO(data))
    assert len(frame) == 0
    assert list(frame.columns) == list(FIELDS)


def test_parquet_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        join(write_parquet(RECORDS, batch_size=0))


def test_parquet_type_errors_name_the_problem():
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        join(write_parquet([dict(RECORDS[0], task_id="not a number")]))


# --------------------------------------------------------------------------- dispatch


def test_dispatch_and_metadata():
    assert set(CONTENT_TYPES) == set(FILE_EXTENSIONS) == set(FORMATS) == {"jsonl", "csv", "parquet"}
    assert FILE_EXTENSIONS["parquet"] == ".parquet"
    assert CONTENT_TYPES["csv"].startswith("text/csv")
    assert join(write_records(RECORDS, "jsonl")) == join(write_jsonl(RECORDS))
    assert join(write_records(RECORDS, "csv")) == join(write_csv(RECORDS))
    assert pq.read_table(io.BytesIO(join(write_records(RECORDS, "parquet")))).num_rows == 60
    with pytest.raises(ValueError, match="allowed: jsonl, csv, parquet"):
        write_records(RECORDS, "xlsx")


# --------------------------------------------------------------------------- streaming


class Exhausted(Exception):
    pass


def exploding(n: int):
    for i in range(n):
        yield make_record(i % 60)
    raise Exhausted(f"the writer read past record {n}")


@pytest.mark.parametrize(
    ("writer", "n"),
    [
        (write_jsonl, 2000),
        (write_csv, 2000),
        (lambda records: write_parquet(records, batch_size=100), 1000),
    ],
)
def test_writers_yield_before_the_input_is_exhausted(writer, n):
    chunks = writer(exploding(n))
    first = next(chunks)  # would raise Exhausted if the writer read everything first
    assert first
    with pytest.raises(Exhausted):
        list(chunks)


def small_records(n: int):
    for i in range(n):
        yield {
            "task_id": i,
            "document_id": i // 20,
            "document_external_id": f"d{i // 20}",
            "document_title": "A title",
            "sentence_id": i,
            "sentence_position": i % 20,
            "sentence_start": 0,
            "sentence_end": 30,
            "sentence_text": "The minister said it was false.",
            "kind": "verifiability",
            "target": "",
            "split": "train",
            "annotations": [
                {"annotator": "a", "value": {"label": "verifiable"}, "lead_time_ms": 900,
                 "from_suggestion": False, "updated_at": "2026-11-24T20:00:00+00:00"},
            ],
            "gold": {"label": "verifiable"},
            "gold_method": "majority",
            "gold_confidence": 1.0,
            "modal_share": None,
            "tokens": None,
            "bio": None,
            "predictions": [],
        }  # fmt: skip


def peak_python_memory(chunks) -> tuple[int, int]:
    gc.collect()
    tracemalloc.start()
    try:
        total = 0
        for chunk in chunks:
            total += len(chunk)  # consume and drop, as a streaming response does
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, total


@pytest.mark.parametrize("writer", [write_jsonl, write_csv])
def test_text_writers_python_heap_is_bounded(writer):
    # tracemalloc costs ~100x here, so 20,000 records; the 200,000-record run is below
    small, _ = peak_python_memory(writer(small_records(2_000)))
    peak, total = peak_python_memory(writer(small_records(20_000)))
    assert total > 5_000_000
    assert peak < 2 * 1024 * 1024, peak  # a chunk, orjson's key cache: not the output
    assert peak < small + 64 * 1024, (small, peak)  # 10x the records, the same heap


def test_parquet_python_heap_is_bounded_by_one_batch():
    small, _ = peak_python_memory(write_parquet(small_records(5_000), batch_size=1_000))
    large, total = peak_python_memory(write_parquet(small_records(20_000), batch_size=1_000))
    assert total > 20_000
    assert large < small * 1.5 + 512 * 1024, (small, large)  # not 4x


RSS_SCRIPT = """
import resource, sys
sys.path.insert(0, "tests")
from test_writers import small_records
from labeling.exporting.writers import write_records
fmt, n = sys.argv[1], int(sys.argv[2])
options = {"batch_size": 5_000} if fmt == "parquet" else {}
for _ in write_records(small_records(6_000), fmt, **options):  # warm up, load everything
    pass
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
total = 0
for chunk in write_records(small_records(n), fmt, **options):
    total += len(chunk)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(total, (after - before) * 1024)
"""


@pytest.mark.parametrize(("fmt", "limit_mb"), [("jsonl", 8), ("csv", 8), ("parquet", 48)])
def test_peak_memory_does_not_grow_with_200k_records(fmt, limit_mb):
    """Peak RSS (Python objects and Arrow buffers alike) in a fresh process."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, fmt, "200000"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
    ).stdout.split()
    total, growth = int(out[0]), int(out[1])
    assert total > 1_000_000
    if fmt != "parquet":
        assert total > 40_000_000  # output far larger than the bound
    assert growth < limit_mb * 1024 * 1024, (fmt, total, growth)
