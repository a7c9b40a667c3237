"""The export_dataset command: one file, or a folder of per-split files with a dataset card."""

from __future__ import annotations

import io
import json
import os

import pytest
from django.core.management import CommandError, call_command

from labeling.exporting.params import ExportOptions
from labeling.exporting.records import iter_records
from tests.test_exporting import Data

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(make_user) -> Data:
    return Data(make_user, n_docs=20)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_dataset", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def load_dataset(*args, **kwargs):
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    datasets = pytest.importorskip("datasets")
    return datasets.load_dataset(*args, **kwargs)


def test_export_to_one_file_takes_the_format_from_its_name(data, tmp_path):
    path = tmp_path / "out" / "data.csv"
    message = run(str(data.project.pk), str(path), "--kind", "verifiability")
    expected = list(iter_records(data.project, ExportOptions(kind="verifiability")))
    assert f"{len(expected)} records written" in message
    ds = load_dataset("csv", data_files=str(path), split="train", cache_dir=str(tmp_path / "c"))
    assert ds["task_id"] == [r["task_id"] for r in expected]
    assert set(ds["kind"]) == {"verifiability"}


def test_project_may_be_named(data, tmp_path):
    path = tmp_path / "named.jsonl"
    run(data.project.name, str(path))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(list(iter_records(data.project, ExportOptions())))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_to_a_folder_writes_split_files_and_a_card(data, tmp_path, fmt):
    folder = tmp_path / f"dataset-{fmt}"
    message = run(str(data.project.pk), str(folder), "--format", fmt)
    ext = {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet"}[fmt]
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(["README.md", f"train{ext}", f"dev{ext}", f"test{ext}"])
    assert "records written" in message

    # One line loads every split.
    ds = load_dataset(str(folder), cache_dir=str(tmp_path / "c"))
    assert set(ds) == {"train", "validation", "test"}
    expected = list(iter_records(data.project, ExportOptions()))
    assert sum(len(ds[s]) for s in ds) == len(expected)
    for name, split in (("train", "train"), ("validation", "dev"), ("test", "test")):
        assert set(ds[name]["split"]) == {split}
    documents = {s: set(ds[s]["document_id"]) for s in ds}
    assert documents["train"].isdisjoint(documents["validation"])
    assert documents["train"].isdisjoint(documents["test"])
    assert documents["validation"].isdisjoint(documents["test"])

    card = (folder / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n")
    assert data.project.name in card
    for needle in ("verifiable", "against", "Ukrainian government", "## Counts", "## Files"):
        assert needle in card
    n_train = sum(1 for r in expected if r["split"] == "train")
    assert "| train |" in card
    assert str(n_train) in card


def test_folder_export_honours_filters(data, tmp_path):
    folder = tmp_path / "stance"
    run(str(data.project.pk), str(folder), "--kind", "stance", "--split", "train")
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "train.jsonl"]
    lines = [json.loads(x) for x in (folder / "train.jsonl").read_text().splitlines()]
    assert lines
    assert {(r["kind"], r["split"]) for r in lines} == {("stance", "train")}
    assert '"kind":"stance"' in (folder / "README.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min-agreement", "lots"], "--min-agreement"),
        (["--updated-from", "soon"], "--updated-from"),
        (["--kind", "mood"], "--kind"),
        (["--format", "csv"], "does not match"),
    ],
)
def test_bad_options_fail_naming_the_option(data, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        run(str(data.project.pk), str(tmp_path / "x.jsonl"), *args)


def test_unknown_project(tmp_path):
    with pytest.raises(CommandError, match="unknown project"):
        run("no-such-project", str(tmp_path / "x.jsonl"))
