"""Clients generated from the committed OpenAPI document work: Python and TypeScript.

* ``openapi-python-client`` (pinned in requirements-dev.txt) generates a Python client from
  ``docs/openapi.yaml`` with ``clients/openapi-python-client.yaml``: no warning, every
  module imports, and the main flow runs through it against the live test server (log in,
  create a project, add members, import documents in all three bodies, next task,
  annotate, agreement run, export).
* ``openapi-typescript`` (pinned in ``clients/package-lock.json``, installed with
  ``npm ci``) generates TypeScript types without a warning, and ``tsc --noEmit`` accepts
  ``clients/main_flow.ts``, which spells the same flow in those types.

``tests/test_openapi.py`` checks that the committed document is what the code generates.
Outside CI the TypeScript half skips when node or npm is missing; under CI it must run.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from rest_framework.authtoken.models import Token

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "docs" / "openapi.yaml"
CLIENTS = ROOT / "clients"
CONFIG = CLIENTS / "openapi-python-client.yaml"
PACKAGE = "labeling_api_client"
VENV_BIN = Path(sys.executable).parent

TEXT = (
    "The minister said the plan would cut costs by 3% 🇺🇦. Critics disagreed.\n"
    "東京の記者は「合意はない」と述べた。 Café owners were not asked."
)


def _run(cmd: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("NODE_OPTIONS", None)
    return subprocess.run(  # noqa: S603 - fixed argument lists, no shell
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def api_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The Python client generated from docs/openapi.yaml, imported as ``labeling_api_client``."""
    out = tmp_path_factory.mktemp("generated")
    done = _run(
        [
            str(VENV_BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(SCHEMA),
            "--config",
            str(CONFIG),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
        ],
        cwd=out,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Warning" not in output, output
    assert "Error" not in output, output
    sys.path.insert(0, str(out))
    try:
        package = importlib.import_module(PACKAGE)
        yield package
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_every_generated_python_module_imports(api_client: ModuleType) -> None:
    import pkgutil

    names = [m.name for m in pkgutil.walk_packages(api_client.__path__, PACKAGE + ".")]
    assert len(names) > 100
    for name in names:  # 0.29.1 made modules that failed here (NameError: Unset) on form bodies
        importlib.import_module(name)


def _mod(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.mark.django_db(transaction=True)
def test_main_flow_through_the_generated_python_client(
    api_client: ModuleType, live_server: Any, make_user: Any
) -> None:
    models = _mod("models")
    types = _mod("types")
    api = "api"
    token_create = _mod(f"{api}.auth.auth_token_create")
    projects_create = _mod(f"{api}.projects.projects_create")
    members_create = _mod(f"{api}.projects.projects_members_create")
    documents_create = _mod(f"{api}.projects.projects_documents_create")
    next_task = _mod(f"{api}.projects.projects_next_task_retrieve")
    annotation_update = _mod(f"{api}.tasks.tasks_annotation_update")
    runs_create = _mod(f"{api}.projects.projects_agreement_runs_create")
    run_retrieve = _mod(f"{api}.agreement_runs.agreement_runs_retrieve")
    export = _mod(f"{api}.projects.projects_export_retrieve")
    document_retrieve = _mod(f"{api}.documents.documents_retrieve")

    make_user("lead", is_staff=True)
    make_user("ann1")
    make_user("ann2")
    anonymous = api_client.Client(base_url=live_server.url, raise_on_unexpected_status=True)

    def log_in(username: str) -> Any:
        body = models.AuthTokenRequest(username=username, password=f"pw-{username}")
        token = token_create.sync(client=anonymous, body=body)
        assert isinstance(token, models.AuthToken), token
        return api_client.AuthenticatedClient(
            base_url=live_server.url, token=token.token, raise_on_unexpected_status=True
        )

    lead = log_in("lead")
    schema = models.ProjectCreateRequestSchemasItem.from_dict(
        {"kind": "verifiability", "labels": ["verifiable", "unverifiable", "not_a_claim"]}
    )
    project = projects_create.sync(
        client=lead,
        body=models.ProjectCreateRequest(name="Generated", annotators_per_item=2, schemas=[schema]),
    )
    assert isinstance(project, models.Project), project
    for username in ("ann1", "ann2"):
        member = members_create.sync_detailed(
            project.id,
            client=lead,
            body=models.MemberCreateRequest(username=username, role=models.RoleEnum.ANNOTATOR),
        )
        assert member.status_code == 201, member.content

    # The three bodies of POST …/documents/: JSON, JSON Lines, a multipart file.
    one = documents_create.sync_detailed(
        project.id,
        client=lead,
        body=models.DocumentInRequest(title="JSON", text=TEXT, external_id="json-1"),
    )
    assert one.status_code == 201, one.content
    lines = "\n".join(
        json.dumps({"text": f"Line {i} said the mayor. It rained 🌧️.", "external_id": f"l{i}"})
        for i in range(2)
    )
    jsonl = documents_create.sync_detailed(
        project.id,
        client=lead,
        body=types.File(payload=BytesIO(lines.encode()), mime_type="application/x-ndjson"),
    )
    assert jsonl.status_code == 201, jsonl.content
    assert len(jsonl.parsed.created) == 2
    upload = models.DocumentUploadRequest(
        file=types.File(
            payload=BytesIO('text\n"A file, uploaded. Ça marche 👍."\n'.encode()),
            file_name="docs.csv",
            mime_type="text/csv",
        )
    )
    uploaded = documents_create.sync_detailed(project.id, client=lead, body=upload)
    assert uploaded.status_code == 201, uploaded.content
    document = document_retrieve.sync(one.parsed.created[0], client=lead)
    assert [s.text for s in document.sentences][:2] == [
        "The minister said the plan would cut costs by 3% 🇺🇦.",
        "Critics disagreed.",
    ]

    # Both annotators label everything; the same label everywhere but one.
    n_done = 0
    for username in ("ann1", "ann2"):
        annotator = log_in(username)
        while True:
            response = next_task.sync_detailed(project.id, client=annotator, kind="verifiability")
            if response.status_code == 204:
                break
            task = response.parsed
            assert isinstance(task, models.TaskPayload), response.content
            label = "verifiable" if (task.id + (n_done == 0)) % 2 else "not_a_claim"
            saved = annotation_update.sync(
                task.id,
                client=annotator,
                body=models.AnnotationWriteRequest(
                    value=models.VerifiabilityValue(label=label), lead_time_ms=1200
                ),
            )
            assert isinstance(saved, models.Annotation), saved
            n_done += 1
    n_sentences = sum(r.parsed.n_sentences for r in (one, jsonl, uploaded))
    assert n_done == 2 * n_sentences

    run = runs_create.sync_detailed(
        project.id,
        client=lead,
        body=models.AgreementRunRequestRequest(kind="verifiability"),
    )
    assert run.status_code == 202, run.content
    finished = run_retrieve.sync(run.parsed.id, client=lead)
    assert finished.status == models.JobStatusEnum.DONE, finished
    assert finished.result.n_annotations == n_done
    assert -1 <= finished.result.alpha <= 1

    exported = export.sync_detailed(
        project.id, client=lead, format_=models.ProjectsExportRetrieveFormat.JSONL
    )
    assert exported.status_code == 200
    records = [json.loads(line) for line in exported.content.decode().splitlines() if line]
    records = [r for r in records if "task_id" in r]
    assert len(records) * 2 == n_done
    assert all(len(r["annotations"]) == 2 for r in records)


@pytest.fixture(scope="module")
def npm_installed() -> Path:
    """``clients/node_modules`` from the lock file (npm ci); skips without node outside CI."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install nodejs npm)")
    if not (CLIENTS / "node_modules" / ".package-lock.json").exists() or _stale(CLIENTS):
        done = _run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"], cwd=CLIENTS)
        assert done.returncode == 0, done.stdout + done.stderr
    return CLIENTS


def _stale(folder: Path) -> bool:
    """Whether node_modules was installed from another lock file than the committed one."""
    installed = folder / "node_modules" / ".package-lock.json"
    return installed.stat().st_mtime < (folder / "package-lock.json").stat().st_mtime


def test_typescript_types_generate_and_the_main_flow_type_checks(npm_installed: Path) -> None:
    generated = npm_installed / "generated"
    generated.mkdir(exist_ok=True)
    done = _run(
        [
            "node",
            "node_modules/openapi-typescript/bin/cli.js",
            str(SCHEMA),
            "--default-non-nullable=false",  # a default makes a request field optional
            "--output",
            "generated/api.d.ts",
        ],
        cwd=npm_installed,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "warn" not in output.lower(), output
    assert "error" not in output.lower(), output
    types = (generated / "api.d.ts").read_text()
    assert 'value: components["schemas"]["KindValue"]' in types
    checked = _run(
        ["node", "node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json"],
        cwd=npm_installed,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_typescript_check_fails_on_a_wrong_value(npm_installed: Path, tmp_path: Path) -> None:
    """The TypeScript check can fail: a label where attributions belong is a type error."""
    generated = npm_installed / "generated" / "api.d.ts"
    if not generated.exists():
        test_typescript_types_generate_and_the_main_flow_type_checks(npm_installed)
    bad = tmp_path / "bad.ts"
    bad.write_text(
        f'import type {{ components }} from "{generated.with_suffix("").with_suffix("")}";\n'
        'const v: components["schemas"]["AttributionValue"] = { label: "verifiable" };\n'
        "export default v;\n"
    )
    checked = _run(
        [
            "node",
            str(npm_installed / "node_modules/typescript/bin/tsc"),
            "--noEmit",
            "--strict",
            "--skipLibCheck",
            str(bad),
        ],
        cwd=tmp_path,
    )
    assert checked.returncode != 0
    assert "label" in checked.stdout


def test_tokens_work_as_the_generated_client_sends_them(make_user: Any, db: Any) -> None:
    """The generated AuthenticatedClient sends ``Authorization: Bearer KEY`` (its default)."""
    from rest_framework.test import APIClient

    user = make_user("bearer")
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    assert client.get("/api/me/").json()["username"] == "bearer"
