"""The OpenAPI document is exact enough to build a client on: errors, flags, limits, JSON."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    return response.json()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, op


def test_error_envelope_is_a_named_schema(schema) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code", "errors"}


def test_every_operation_documents_its_errors_with_the_envelope(schema) -> None:
    for path, method, op in operations(schema):
        responses = op["responses"]
        expected = {"400"}
        if path not in {"/api/auth/token/", "/api/schema/"}:
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if method != "get":
            expected.add("409")
        if "requestBody" in op:
            expected |= {"413", "415"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for code, response in responses.items():
            if code.startswith("4"):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, code)


UPLOAD = "/api/projects/{project_id}/documents/"


def test_request_bodies_are_json_only(schema) -> None:
    """JSON only, the log-in too; the document import also takes its two upload forms."""
    for path, method, op in operations(schema):
        if "requestBody" in op:
            expected = {"application/json"}
            if (path, method) == (UPLOAD, "post"):
                expected |= {"application/x-ndjson", "multipart/form-data"}
            if (path, method) == ("/api/projects/{project_id}/predictions/", "post"):
                expected.add("application/x-ndjson")  # predictions also come as JSON Lines
            assert set(op["requestBody"]["content"]) == expected, (method, path)


def test_upload_bodies_are_described(schema) -> None:
    content = schema["paths"][UPLOAD]["post"]["requestBody"]["content"]
    assert content["application/x-ndjson"]["schema"] == {"type": "string", "format": "binary"}
    upload = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    form = schema["components"]["schemas"][upload]
    assert form["required"] == ["file"]
    assert form["properties"]["file"] == {**form["properties"]["file"], "format": "binary"}
    assert "202" in schema["paths"][UPLOAD]["post"]["responses"]


def test_flags_the_issue_found_wrong_are_right(schema) -> None:
    disputed = schema["paths"]["/api/projects/{project_id}/disputed/"]["get"]
    (kind,) = [p for p in disputed["parameters"] if p["name"] == "kind"]
    assert kind["required"] is True
    gold = schema["components"]["schemas"]["Gold"]["properties"]["decided_by"]
    assert gold.get("nullable") is True


def test_page_size_limits_are_documented(schema) -> None:
    listing = schema["paths"]["/api/projects/"]["get"]
    (size,) = [p for p in listing["parameters"] if p["name"] == "page_size"]
    assert size["schema"] == {"type": "integer", "minimum": 1, "maximum": 500}
    (page,) = [p for p in listing["parameters"] if p["name"] == "page"]
    assert page["schema"]["minimum"] == 1


def test_login_documents_its_lockout(schema) -> None:
    assert "429" in schema["paths"]["/api/auth/token/"]["post"]["responses"]


def test_every_value_is_typed_by_its_kind(schema) -> None:
    """Annotation, revision, gold and control values are the KindValue union, not `unknown`."""
    found = []
    for name, component in schema["components"]["schemas"].items():
        value = component.get("properties", {}).get("value")
        if value is None or name.endswith("Value"):
            continue
        refs = [value.get("$ref")] + [part.get("$ref") for part in value.get("allOf", [])]
        assert "#/components/schemas/KindValue" in refs, (name, value)
        found.append(name)
    assert {"AnnotationRevision", "Gold", "Control", "ControlInRequest"} <= set(found)


def test_import_job_errors_are_typed(schema) -> None:
    errors = schema["components"]["schemas"]["ImportJob"]["properties"]["errors"]
    assert errors["type"] == "array"
    item = schema["components"]["schemas"][errors["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(item["required"]) == {"line", "field", "message"}
