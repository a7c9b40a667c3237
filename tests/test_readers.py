"""Readers: JSONL / CSV / TXT happy paths, every validation error, and the batch policy."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling.importing.readers import (
    FIELDS,
    MAX_DERIVED_TITLE_CHARS,
    MAX_REPORTED_ERRORS,
    DocumentRecord,
    ReadError,
    RecordError,
    parse_record,
    read_csv,
    read_jsonl,
    read_records,
    read_text,
)
from labeling.text.segmentation import MAX_DOCUMENT_CHARS, split_sentences

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "000_54c65cebe7473141.txt"


def jsonl(*objs) -> bytes:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs).encode()


def errors_of(fn, *args, **kwargs) -> list[RecordError]:
    with pytest.raises(ReadError) as info:
        fn(*args, **kwargs)
    return info.value.errors


def one_error(fn, *args, **kwargs) -> RecordError:
    errors = errors_of(fn, *args, **kwargs)
    assert len(errors) == 1, errors
    return errors[0]


# --- JSONL happy path ---------------------------------------------------------------------


def test_jsonl_full_record():
    data = jsonl(
        {
            "title": "Putin and Michel",
            "text": "First sentence. Second one.",
            "external_id": "rt-1",
            "source_url": "https://example.com/a?b=1#c",
            "published_at": "2022-04-22T15:30:00+03:00",
            "metadata": {"outlet": "wire", "tags": ["ukraine"]},
        }
    )
    [record] = read_jsonl(data)
    assert record == DocumentRecord(
        title="Putin and Michel",
        text="First sentence. Second one.",
        external_id="rt-1",
        source_url="https://example.com/a?b=1#c",
        published_at=datetime(2022, 4, 22, 15, 30, tzinfo=timezone(timedelta(hours=3))),
        metadata={"outlet": "wire", "tags": ["ukraine"]},
    )
    hash(record)  # frozen and hashable despite the metadata dict


def test_jsonl_minimal_record_defaults_and_derived_title():
    [record] = read_jsonl(jsonl({"text": "\n\n  Headline here  \nBody text."}))
    assert record.title == "Headline here"
    assert record.text == "\n\n  Headline here  \nBody text."  # untouched
    assert record.external_id == ""
    assert record.source_url == ""
    assert record.published_at is None
    assert record.metadata == {}


def test_jsonl_nulls_mean_absent_and_empty_title_is_derived():
    [record] = read_jsonl(
        jsonl(
            {
                "title": "   ",
                "text": "Body.",
                "external_id": None,
                "source_url": None,
                "published_at": None,
                "metadata": None,
            }
        )
    )
    assert record == DocumentRecord(title="Body.", text="Body.")


def test_jsonl_blank_lines_skipped_crlf_lines_and_line_numbers():
    data = b'\n{"text": "one"}\r\n   \n\n{"text": "two"}\r\n\n'
    records = read_jsonl(data)
    assert [r.text for r in records] == ["one", "two"]


def test_jsonl_numbers_become_string_ids():
    records = read_jsonl(jsonl({"text": "a", "external_id": 7}, {"text": "b", "external_id": 7.5}))
    assert [r.external_id for r in records] == ["7", "7.5"]


def test_published_at_forms():
    cases = {
        "2022-04-22T12:00:00Z": datetime(2022, 4, 22, 12, tzinfo=UTC),
        "2022-04-22T12:00:00": datetime(2022, 4, 22, 12, tzinfo=UTC),  # naive → UTC
        "2022-04-22 12:00": datetime(2022, 4, 22, 12, tzinfo=UTC),
        "2022-04-22": datetime(2022, 4, 22, tzinfo=UTC),
        "2022-04-22T12:00:00.123456-05:00": datetime(
            2022, 4, 22, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5))
        ),
    }
    for raw, expected in cases.items():
        [record] = read_jsonl(jsonl({"text": "x", "published_at": raw}))
        assert record.published_at == expected, raw
        assert record.published_at.tzinfo is not None


def test_text_newlines_normalised_and_offsets_refer_to_stored_text():
    [record] = read_jsonl(jsonl({"text": "Line one.\r\nLine two.\rLine three.\n"}))
    assert record.text == "Line one.\nLine two.\nLine three.\n"
    assert [record.text[a:b] for a, b in split_sentences(record.text)] == [
        "Line one.",
        "Line two.",
        "Line three.",
    ]


def test_unicode_text_is_kept_exactly():
    text = "«Привет», — сказал он.\u00a0“Quote” ‘x’ 😀 café\tend "
    [record] = read_jsonl(jsonl({"text": text, "title": "Заголовок"}))
    assert record.text == text
    assert record.title == "Заголовок"


def test_title_whitespace_collapsed():
    [record] = read_jsonl(jsonl({"text": "x", "title": "  A\n  long\ttitle "}))
    assert record.title == "A long title"


def test_derived_title_is_cut_at_a_word_boundary():
    text = ("word " * 100).strip() + "\nsecond line"
    [record] = read_jsonl(jsonl({"text": text}))
    assert len(record.title) <= MAX_DERIVED_TITLE_CHARS
    assert record.title.endswith("word…")


# --- JSONL errors ---------------------------------------------------------------------------


def test_malformed_json_reports_line():
    e = one_error(read_jsonl, b'{"text": "ok"}\n{"text": "broken"\n')
    assert e.line == 2
    assert e.field == ""
    assert e.message.startswith("malformed JSON")


def test_nan_and_infinity_are_malformed_json():
    errors = errors_of(read_jsonl, b'{"text": "a", "metadata": {"x": NaN}}\n{"text": 1e999}')
    assert [(e.line, e.message.startswith("malformed JSON")) for e in errors] == [
        (1, True),
        (2, True),
    ]


def test_line_that_is_not_an_object():
    errors = errors_of(read_jsonl, b'[1, 2]\n"text"\n42\nnull')
    assert [(e.line, e.message) for e in errors] == [
        (1, "expected a JSON object, got an array"),
        (2, "expected a JSON object, got a string"),
        (3, "expected a JSON object, got a number"),
        (4, "expected a JSON object, got null"),
    ]


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"title": "no text"},
        {"text": ""},
        {"text": " \n\t "},
        {"text": None},
        {"text": 5},
        {"text": ["a"]},
    ],
    ids=["missing", "missing-with-title", "empty", "whitespace", "null", "number", "list"],
)
def test_text_must_be_non_empty_string(obj):
    e = one_error(read_jsonl, jsonl({"text": "fine"}, {"text": "fine"}, obj))
    assert e.line == 3
    assert e.field == "text"
    assert e.message.startswith("must be a non-empty string")


def test_str_of_read_error_is_readable():
    with pytest.raises(ReadError) as info:
        read_jsonl(jsonl({"text": "a"}, {"text": "b"}, {"text": ""}))
    assert str(info.value) == "line 3: text: must be a non-empty string"
    assert isinstance(info.value, ValueError)


def test_text_too_long():
    e = one_error(read_jsonl, jsonl({"text": "a" * (MAX_DOCUMENT_CHARS + 1)}))
    assert (e.line, e.field) == (1, "text")
    assert "limit" in e.message
    # exactly at the limit is fine
    [record] = read_jsonl(jsonl({"text": "a" * MAX_DOCUMENT_CHARS}))
    assert len(record.text) == MAX_DOCUMENT_CHARS


def test_text_limit_counts_normalised_text():
    text = "a" * (MAX_DOCUMENT_CHARS - 1) + "\r\n"  # one char over before normalisation
    [record] = read_jsonl(jsonl({"text": text}))
    assert len(record.text) == MAX_DOCUMENT_CHARS


def test_nul_in_text():
    e = one_error(read_jsonl, jsonl({"text": "bad\u0000byte"}))
    assert (e.line, e.field, e.message) == (1, "text", "contains a NUL character")


@pytest.mark.parametrize("title", [5, True, ["t"], {"t": 1}])
def test_title_not_a_string(title):
    e = one_error(read_jsonl, jsonl({"text": "x", "title": title}))
    assert (e.line, e.field) == (1, "title")
    assert e.message.startswith("must be a string")


@pytest.mark.parametrize("external_id", [True, [1], {"a": 1}])
def test_external_id_not_string_or_number(external_id):
    e = one_error(read_jsonl, jsonl({"text": "x", "external_id": external_id}))
    assert (e.line, e.field) == (1, "external_id")
    assert e.message.startswith("must be a string or a number")


@pytest.mark.parametrize(
    "url",
    [
        "example.com/page",
        "ftp://example.com/file",
        "javascript:alert(1)",
        "https://",
        "http:///path",
        "https://exa mple.com",
        "https://example.com:99999/",
        "mailto:a@b.org",
    ],
)
def test_source_url_must_be_http_url(url):
    e = one_error(read_jsonl, jsonl({"text": "x", "source_url": url}))
    assert (e.line, e.field) == (1, "source_url")
    assert "http(s) URL" in e.message


def test_source_url_type_and_valid_forms():
    e = one_error(read_jsonl, jsonl({"text": "x", "source_url": 5}))
    assert (e.field, e.message) == ("source_url", "must be a string, got a number")
    for url in ["http://a.b", "HTTPS://Example.COM/x?y=z", "https://[::1]:8000/", ""]:
        [record] = read_jsonl(jsonl({"text": "x", "source_url": url}))
        assert record.source_url == url


@pytest.mark.parametrize("value", ["yesterday", "2022-13-01", "22/04/2022", "2022-04-22T25:00"])
def test_published_at_unparsable(value):
    e = one_error(read_jsonl, jsonl({"text": "x", "published_at": value}))
    assert (e.line, e.field) == (1, "published_at")
    assert "ISO 8601" in e.message


def test_published_at_wrong_type():
    e = one_error(read_jsonl, jsonl({"text": "x", "published_at": 1650000000}))
    assert (e.field, e.message) == ("published_at", "must be an ISO 8601 string, got a number")


@pytest.mark.parametrize("metadata", [[1, 2], "a", 3, True])
def test_metadata_not_an_object(metadata):
    e = one_error(read_jsonl, jsonl({"text": "x", "metadata": metadata}))
    assert (e.line, e.field) == (1, "metadata")
    assert e.message.startswith("must be a JSON object")


def test_unknown_key_names_the_key():
    e = one_error(read_jsonl, jsonl({"text": "x", "body": "y"}))
    assert (e.line, e.field) == (1, "body")
    assert e.message.startswith("unknown field")


def test_all_errors_of_a_record_and_of_the_file_are_collected():
    data = jsonl(
        {"text": "", "title": 3, "source_url": "nope", "metadata": [], "extra": 1},
        {"text": "good"},
        "{oops",
        {"text": "x", "published_at": "never"},
    )
    errors = errors_of(read_jsonl, data)
    assert [(e.line, e.field) for e in errors] == [
        (1, "extra"),
        (1, "text"),
        (1, "title"),
        (1, "source_url"),
        (1, "metadata"),
        (3, ""),
        (4, "published_at"),
    ]


def test_error_cap_says_how_many_more():
    data = jsonl(*([{"text": ""}] * (MAX_REPORTED_ERRORS + 7)))
    with pytest.raises(ReadError) as info:
        read_jsonl(data)
    assert len(info.value.errors) == MAX_REPORTED_ERRORS
    assert info.value.omitted == 7
    assert str(info.value).splitlines()[-1] == "and 7 more errors"
    assert info.value.errors[-1].line == MAX_REPORTED_ERRORS


def test_empty_jsonl_file_is_an_error():
    for data in [b"", b"\n\n  \n"]:
        e = one_error(read_jsonl, data)
        assert (e.line, e.message) == (1, "file contains no documents")


# --- encoding -------------------------------------------------------------------------------


def test_not_utf8_reports_line_and_byte_offset():
    data = b'{"text": "ok"}\n{"text": "caf\xe9"}\n'  # Latin-1 é
    e = one_error(read_jsonl, data)
    assert e.line == 2
    assert "not valid UTF-8" in e.message
    assert "byte offset 28" in e.message
    assert data[28:29] == b"\xe9"


@pytest.mark.parametrize("reader", ["txt", "jsonl", "csv"])
def test_not_utf8_in_every_format(reader):
    data = {"txt": b"line\n\xff\xfe", "jsonl": b"\n\xff", "csv": b"text\n\xff"}[reader]
    e = one_error(read_records, data, format=reader, filename="x.txt")
    assert e.line == 2
    assert "not valid UTF-8" in e.message


def test_bom_is_accepted_and_dropped():
    bom = b"\xef\xbb\xbf"
    assert read_jsonl(bom + b'{"text": "a"}')[0].text == "a"
    assert read_csv(bom + b"title,text\nT,body\n")[0] == DocumentRecord(title="T", text="body")
    assert read_text(bom + "Привет.".encode(), filename="a.txt")[0].text == "Привет."
    # offsets of a bad byte count the BOM
    e = one_error(read_jsonl, bom + b"\xff")
    assert "byte offset 3" in e.message


# --- CSV ------------------------------------------------------------------------------------


def test_csv_tricky_quoting_and_unicode():
    data = (
        "title,text,external_id,source_url,published_at,metadata\r\n"
        '"Putin, Michel","He said: ""No."" Then, he left.\r\nNew para — «ok».",42,'
        'https://example.com/x,2022-04-22T10:00:00Z,"{""lang"": ""en"", ""n"": 2}"\r\n'
        'Заголовок,"Текст, с запятой",,,,\r\n'
    ).encode()
    first, second = read_csv(data)
    assert first == DocumentRecord(
        title="Putin, Michel",
        text='He said: "No." Then, he left.\nNew para — «ok».',
        external_id="42",
        source_url="https://example.com/x",
        published_at=datetime(2022, 4, 22, 10, tzinfo=UTC),
        metadata={"lang": "en", "n": 2},
    )
    assert second == DocumentRecord(title="Заголовок", text="Текст, с запятой")


def test_csv_columns_in_any_order_and_subset():
    data = b'text,title\n"body one",One\n"body two",\n'
    records = read_csv(data)
    assert [(r.title, r.text) for r in records] == [("One", "body one"), ("body two", "body two")]


def test_csv_error_lines_are_record_start_lines():
    data = (
        b"title,text,metadata\n"  # line 1
        b'ok,"multi\nline\ntext",\n'  # lines 2-4
        b'bad,"",\n'  # line 5: empty text
        b"\n"  # line 6: blank, skipped
        b'm,"x","[1]"\n'  # line 7: metadata not an object
        b'j,"y","{nope"\n'  # line 8: metadata not JSON
    )
    errors = errors_of(read_csv, data)
    assert [(e.line, e.field) for e in errors] == [(5, "text"), (7, "metadata"), (8, "metadata")]
    assert errors[1].message == "must be a JSON object, got an array"
    assert errors[2].message.startswith("must be a JSON object (invalid JSON")


def test_csv_header_problems():
    e = one_error(read_csv, b"title,text,body\nT,x,y\n")
    assert (e.line, e.field) == (1, "body")
    assert e.message.startswith("unknown column")
    errors = errors_of(read_csv, b"title,body\nT,x\n")
    assert [(x.line, x.field) for x in errors] == [(1, "body"), (1, "text")]
    errors = errors_of(read_csv, b"title,title,text\nA,B,c\n")
    assert [(x.line, x.field, x.message) for x in errors] == [(1, "title", "duplicate column")]
    e = one_error(read_csv, b"title\nT\n")
    assert (e.line, e.field) == (1, "text")
    assert e.message.startswith("missing column")


def test_csv_wrong_field_count():
    e = one_error(read_csv, b"title,text\nA,b,c\n")
    assert (e.line, e.message) == (2, "expected 2 fields, got 3")


def test_csv_malformed_quoting():
    errors = errors_of(read_csv, b'title,text\nA,"unterminated\n')
    assert errors[0].line == 2
    assert errors[0].message.startswith("malformed CSV")
    errors = errors_of(read_csv, b'title,text\nA,"x"y\nB,fine\n')
    assert errors[0].line == 2
    assert errors[0].message.startswith("malformed CSV")


def test_csv_empty_and_header_only():
    e = one_error(read_csv, b"")
    assert e.line == 1
    assert "header" in e.message
    e = one_error(read_csv, b"title,text\n")
    assert e.message == "file contains no documents"


def test_csv_nul_and_long_text():
    errors = errors_of(read_csv, b'text\n"a\x00b"\n' + b"x" * (MAX_DOCUMENT_CHARS + 1) + b"\n")
    assert [(e.line, e.field) for e in errors] == [(2, "text"), (3, "text")]
    assert errors[0].message == "contains a NUL character"
    assert "limit" in errors[1].message


def test_csv_bad_values_all_reported():
    data = b"text,source_url,published_at\nx,ftp://a,2022-04-22\ny,https://ok.org,not-a-date\n"
    errors = errors_of(read_csv, data)
    assert [(e.line, e.field) for e in errors] == [(2, "source_url"), (3, "published_at")]


def test_csv_big_text_within_limit():
    text = "Sentence. " * 50_000  # 500,000 chars: beyond the csv module's default field limit
    [record] = read_csv(b"text\n" + text.encode() + b"\n")
    assert record.text == text


# --- TXT ------------------------------------------------------------------------------------


def test_txt_fixture_title_is_filename_stem():
    data = FIXTURE.read_bytes()
    [record] = read_text(data, filename="corpus/000_54c65cebe7473141.txt")
    assert record.title == "000_54c65cebe7473141"
    assert record.text == data.decode("utf-8")
    assert record.metadata == {"filename": "000_54c65cebe7473141.txt"}
    assert len(split_sentences(record.text)) == 22


def test_txt_without_filename_derives_title_from_first_line():
    [record] = read_text(b"\n\n  Ceasefire Holds  \r\nBody text.\r\n", filename="")
    assert record.title == "Ceasefire Holds"
    assert record.text == "\n\n  Ceasefire Holds  \nBody text.\n"
    assert record.metadata == {}


def test_txt_windows_path_filename():
    [record] = read_text(b"x", filename="C:\\uploads\\report.final.txt")
    assert record.title == "report.final"


def test_txt_errors():
    e = one_error(read_text, b"  \n \n", filename="a.txt")
    assert (e.line, e.field, e.message) == (1, "text", "must be a non-empty string")
    e = one_error(read_text, b"line one\nline two\nbad \x00 here\n", filename="a.txt")
    assert (e.line, e.field, e.message) == (3, "text", "contains a NUL character")
    e = one_error(read_text, b"a" * (MAX_DOCUMENT_CHARS + 1), filename="a.txt")
    assert (e.line, e.field) == (1, "text")


# --- dispatch and parse_record --------------------------------------------------------------


def test_read_records_dispatch():
    assert read_records(b"Hello.", format="txt", filename="h.txt")[0].title == "h"
    assert read_records(b'{"text": "a"}', format="jsonl")[0].text == "a"
    assert read_records(b"text\na\n", format=".CSV")[0].text == "a"


def test_read_records_unknown_format():
    e = one_error(read_records, b"x", format="xml")
    assert (e.line, e.field) == (0, "format")
    with pytest.raises(ReadError) as info:
        read_records(b"x", format="xml")
    assert str(info.value).startswith("format: unknown format 'xml'")


def test_parse_record_same_rules_and_messages():
    record = parse_record({"title": "T", "text": "a\r\nb", "external_id": 3}, line=1)
    assert record == DocumentRecord(title="T", text="a\nb", external_id="3")
    with pytest.raises(ReadError) as info:
        parse_record({"text": "", "source_url": "x"}, line=4)
    assert [str(e) for e in info.value.errors] == [
        "line 4: text: must be a non-empty string",
        "line 4: source_url: must be an absolute http(s) URL, got 'x'",
    ]
    with pytest.raises(ReadError) as info:
        parse_record(["not", "a", "dict"], line=2)
    assert str(info.value) == "line 2: expected a JSON object, got an array"


def test_parse_record_accepts_datetime_objects():
    naive = datetime(2022, 4, 22, 8, 0)  # noqa: DTZ001
    record = parse_record({"text": "x", "published_at": naive}, line=1)
    assert record.published_at == datetime(2022, 4, 22, 8, 0, tzinfo=UTC)


def test_fields_constant():
    assert FIELDS == (
        "title",
        "text",
        "external_id",
        "source_url",
        "published_at",
        "metadata",
        "controls",
    )


def test_metadata_is_a_fresh_dict():
    meta = {"a": 1}
    record = parse_record({"text": "x", "metadata": meta}, line=1)
    meta["a"] = 2
    assert record.metadata == {"a": 1}


# --- round trips with hypothesis ------------------------------------------------------------

_texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=60,
).filter(lambda t: t.strip())
_titles = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
_records = st.lists(st.tuples(_titles, _texts), min_size=1, max_size=8)


def _expected(title: str, text: str) -> DocumentRecord:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    title = " ".join(title.split())
    [derived] = read_jsonl(jsonl({"text": text}))
    return DocumentRecord(title=title or derived.title, text=text)


@settings(max_examples=150, deadline=None)
@given(_records)
def test_csv_round_trip_with_any_quoting(rows):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["title", "text"])
    writer.writerows(rows)
    records = read_csv(("\ufeff" + buffer.getvalue()).encode("utf-8"))
    assert records == [_expected(title, text) for title, text in rows]


@settings(max_examples=150, deadline=None)
@given(_records, st.booleans())
def test_jsonl_round_trip(rows, ensure_ascii):
    data = "\n".join(
        json.dumps({"title": t, "text": x}, ensure_ascii=ensure_ascii) for t, x in rows
    ).encode("utf-8")
    assert read_jsonl(data) == [_expected(title, text) for title, text in rows]
