"""Import: offsets, idempotency, tasks per kind and target, all-or-nothing batches."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from labeling.importing.documents import ensure_tasks, import_documents
from labeling.importing.readers import DocumentRecord, ReadError, read_records
from labeling.models import Document, LabelSchema, Sentence, Task
from tests.factories import SAMPLE_TEXT, add_documents, make_project

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "000_54c65cebe7473141.txt"


def test_sentences_have_exact_document_offsets():
    project = make_project()
    [doc_id] = add_documents(project)
    doc = Document.objects.get(pk=doc_id)
    sentences = list(doc.sentences.order_by("position"))
    assert [s.position for s in sentences] == list(range(len(sentences)))
    assert len(sentences) == 4
    for s in sentences:
        assert doc.text[s.start : s.end] == s.text
        assert "\n" not in s.text
    assert sentences[0].text == "Officials met in Geneva on Monday."
    assert sentences[2].text.startswith("The deal covers 1,844 tonnes")


def test_example_document_imports_with_tasks_for_every_kind_and_target():
    project = make_project()
    records = read_records(EXAMPLE.read_bytes(), format="txt", filename=EXAMPLE.name)
    result = import_documents(project=project, records=records)
    doc = Document.objects.get(pk=result.created[0])
    n = doc.sentences.count()
    assert n >= 15
    # verifiability + two stance targets + attribution per sentence
    assert Task.objects.filter(document=doc).count() == 4 * n
    assert set(Task.objects.filter(kind="stance").values_list("target", flat=True)) == {
        "Ukrainian government",
        "Russian government",
    }
    for s in doc.sentences.all():
        assert doc.text[s.start : s.end] == s.text


def test_reimport_creates_nothing_new():
    project = make_project()
    first = add_documents(project, [SAMPLE_TEXT, "Another story.\nWith two lines."])
    counts = (Document.objects.count(), Sentence.objects.count(), Task.objects.count())
    again = import_documents(
        project=project,
        records=[
            DocumentRecord(title="Doc 0", text=SAMPLE_TEXT, external_id="doc-0"),
            DocumentRecord(title="Doc 1", text="changed text", external_id="doc-1"),
        ],
    )
    assert again.created == []
    assert sorted(again.existing) == sorted(first)
    assert (Document.objects.count(), Sentence.objects.count(), Task.objects.count()) == counts


def test_same_text_without_external_id_is_imported_once_even_within_a_batch():
    project = make_project()
    rec = DocumentRecord(title="", text="Same words here.")
    result = import_documents(project=project, records=[rec, rec])
    assert len(result.created) == 1
    again = import_documents(project=project, records=[rec])
    assert again.created == []
    assert again.existing == result.created
    assert Document.objects.get().title == "Same words here."


def test_same_document_in_two_projects_is_two_documents():
    a, b = make_project(name="A"), make_project(name="B")
    add_documents(a)
    add_documents(b)
    assert Document.objects.count() == 2


def test_overlap_is_copied_to_tasks():
    project = make_project(overlap=3)
    add_documents(project)
    assert set(Task.objects.values_list("overlap", flat=True)) == {3}


def test_failed_batch_writes_nothing(monkeypatch):
    project = make_project()
    records = [DocumentRecord(title="a", text="Good text."), DocumentRecord(title="b", text="x.")]
    import labeling.importing.documents as importing

    calls = {"n": 0}
    real = importing._create_sentences_and_tasks

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(importing, "_create_sentences_and_tasks", failing)
    with pytest.raises(RuntimeError):
        import_documents(project=project, records=records, chunk_size=1)
    assert Document.objects.count() == Sentence.objects.count() == Task.objects.count() == 0


def test_ensure_tasks_adds_tasks_for_a_new_stance_target():
    project = make_project()
    add_documents(project)
    before = Task.objects.count()
    schema = LabelSchema.objects.get(project=project, kind="stance")
    schema.targets = [*schema.targets, "NATO"]
    schema.save()
    n_sentences = Sentence.objects.count()
    assert ensure_tasks(project=project) == n_sentences
    assert Task.objects.count() == before + n_sentences
    assert ensure_tasks(project=project) == 0


def test_progress_is_reported():
    project = make_project()
    seen = []
    records = [DocumentRecord(title=str(i), text=f"Story number {i}.") for i in range(5)]
    import_documents(
        project=project, records=records, chunk_size=2, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_import_command_reads_jsonl_and_reports(tmp_path, capsys):
    project = make_project(name="Cmd")
    path = tmp_path / "docs.jsonl"
    path.write_text(
        '{"title": "A", "text": "One. Two.", "external_id": "a"}\n'
        '{"title": "B", "text": "Three.", "external_id": "b"}\n',
        encoding="utf-8",
    )
    call_command("import_documents", str(project.pk), str(path), verbosity=0)
    assert Document.objects.filter(project=project).count() == 2
    call_command("import_documents", "Cmd", str(path), verbosity=0)
    assert Document.objects.filter(project=project).count() == 2


def test_import_command_bad_inputs(tmp_path):
    project = make_project(name="Cmd")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "A", "text": "ok"}\n{"title": "B"\n', encoding="utf-8")
    with pytest.raises(CommandError, match="line 2"):
        call_command("import_documents", str(project.pk), str(bad), verbosity=0)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\xe9 au lait.".encode("latin-1"))
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("import_documents", str(project.pk), str(latin), verbosity=0)
    with pytest.raises(CommandError, match="unknown project"):
        call_command("import_documents", "nope", str(latin), verbosity=0)
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_documents", str(project.pk), str(tmp_path / "missing.txt"))
    assert Document.objects.count() == 0


def test_read_error_lists_line_numbers():
    with pytest.raises(ReadError) as exc:
        read_records(b'{"text": "a"}\nnot json\n{"text": ""}\n', format="jsonl")
    lines = [e.line for e in exc.value.errors]
    assert lines == [2, 3]
