"""Pure validation of schemas and annotation values: every error names its field."""

from __future__ import annotations

import pytest

from labeling.kinds import Bounds, SchemaError, SchemaSpec, kind_spec, parse_schema, parse_schemas

LABELS = ["verifiable", "unverifiable", "not_a_claim"]


def span(start: int, end: int) -> dict:
    return {"start": start, "end": end}


def triple(source=(0, 5), cue=(10, 14), content=(20, 30)) -> dict:
    return {"source": span(*source), "cue": span(*cue), "content": span(*content)}


def check(kind: str, value, labels=LABELS, doc_length=100, sentence_start=8, sentence_end=40):
    schema = SchemaSpec(kind=kind, labels=list(labels))
    bounds = Bounds(doc_length, sentence_start, sentence_end)
    return kind_spec(kind).validate_value(value, schema=schema, bounds=bounds)


def test_label_value_is_accepted_and_normalised():
    assert check("verifiability", {"label": "verifiable"}) == {"label": "verifiable"}


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ([], "value", "must be an object"),
        ({}, "value.label", "is required"),
        ({"label": 3}, "value.label", "must be a string"),
        ({"label": "maybe"}, "value.label", "'maybe' is not one of"),
        ({"label": "verifiable", "extra": 1}, "value.extra", "unknown field"),
    ],
)
def test_bad_label_values_name_the_field(value, field, message):
    with pytest.raises(SchemaError) as exc:
        check("verifiability", value)
    assert exc.value.field == field
    assert message in exc.value.message


def test_attribution_value_is_accepted_sorted_and_empty_list_allowed():
    later = triple(cue=(30, 34))
    value = {"attributions": [later, triple()]}
    assert check("attribution", value)["attributions"] == [triple(), later]
    assert check("attribution", {"attributions": []}) == {"attributions": []}


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ({}, "value.attributions", "is required"),
        ({"attributions": "x"}, "value.attributions", "must be a list"),
        ({"attributions": [1]}, "value.attributions[0]", "must be an object"),
        ({"attributions": [{"cue": span(10, 14)}]}, "value.attributions[0].source", "is required"),
        (
            {"attributions": [{**triple(), "speaker": span(0, 1)}]},
            "value.attributions[0].speaker",
            "unknown role",
        ),
        ({"attributions": [triple(source=(5, 5))]}, "value.attributions[0].source.end", "greater"),
        ({"attributions": [triple(source=(-1, 5))]}, "value.attributions[0].source.start", ">= 0"),
        ({"attributions": [triple(content=(20, 101))]}, "value.attributions[0].content.end", "100"),
        ({"attributions": [triple(cue=(2, 6))]}, "value.attributions[0].cue", "inside the task"),
        (
            {"attributions": [triple(source=("0", 5))]},
            "value.attributions[0].source.start",
            "integer",
        ),
        (
            {"attributions": [triple(source=(True, 5))]},
            "value.attributions[0].source.start",
            "integer",
        ),
        ({"attributions": [triple(), triple()]}, "value.attributions[1]", "duplicates"),
    ],
)
def test_bad_attribution_values_name_the_field(value, field, message):
    with pytest.raises(SchemaError) as exc:
        check("attribution", value)
    assert exc.value.field == field
    assert message in exc.value.message


def test_schema_defaults_and_stance_targets():
    spec = parse_schema({"kind": "verifiability"})
    assert spec.labels == LABELS
    assert spec.level == "nominal"
    stance = parse_schema({"kind": "stance", "level": "ordinal", "targets": ["A", "B"]})
    assert stance.targets == ["A", "B"]
    assert stance.labels == ["against", "neutral", "favor"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "Emotion!"}, "s.kind"),
        ({"kind": "emotion"}, "s.labels"),
        ({"kind": "stance", "level": "fuzzy", "targets": ["A"]}, "s.level"),
        ({"kind": "stance"}, "s.targets"),
        ({"kind": "verifiability", "labels": ["a"]}, "s.labels"),
        ({"kind": "verifiability", "labels": ["a", "a"]}, "s.labels[1]"),
        ({"kind": "verifiability", "labels": ["a", ""]}, "s.labels[1]"),
        ({"kind": "verifiability", "targets": ["x"]}, "s.targets"),
        ({"kind": "attribution", "labels": ["x", "y"]}, "s.labels"),
        ({"kind": "verifiability", "colour": "red"}, "s.colour"),
    ],
)
def test_bad_schemas_name_the_field(data, field):
    with pytest.raises(SchemaError) as exc:
        parse_schema(data, prefix="s")
    assert exc.value.field == field


def test_project_schemas_are_one_per_kind():
    with pytest.raises(SchemaError) as exc:
        parse_schemas([{"kind": "attribution"}, {"kind": "attribution"}])
    assert exc.value.field == "schemas[1].kind"
    with pytest.raises(SchemaError):
        parse_schemas([])
