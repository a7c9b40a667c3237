"""Import a TXT, JSONL or CSV file (or a folder of .txt files) into a project."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from labeling.exceptions import InvalidInput
from labeling.importing.documents import import_documents
from labeling.importing.job import detect_format
from labeling.importing.readers import ReadError, read_records
from labeling.models import Project


class Command(BaseCommand):
    help = (
        "Import documents into a project: sentences and tasks are created; re-imports are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument(
            "path", type=Path, help="A .txt/.jsonl/.csv file, or a folder of .txt files."
        )
        parser.add_argument("--format", default="", choices=["", "txt", "jsonl", "csv"])

    def handle(
        self, *args: object, project: str, path: Path, format: str, **options: object
    ) -> None:
        target = _find_project(project)
        files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
        if not files or not all(f.is_file() for f in files):
            raise CommandError(f"{path}: no such file, or a folder without .txt files")
        records = []
        for file in files:
            try:
                fmt = detect_format(file.name, format)
                records.extend(read_records(file.read_bytes(), format=fmt, filename=file.name))
            except (ReadError, InvalidInput) as exc:
                raise CommandError(f"{file}: {exc}") from exc
        bar = tqdm(total=len(records), unit="doc", disable=options.get("verbosity", 1) == 0)

        def progress(done: int, total: int) -> None:
            bar.update(done - bar.n)

        try:
            result = import_documents(project=target, records=records, progress=progress)
        except ReadError as exc:  # a control question that names no task or a bad answer
            raise CommandError(f"{path}: nothing was imported:\n{exc}") from exc
        finally:
            bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(result.created)} documents imported ({result.n_sentences} sentences, "
                f"{result.n_tasks} tasks); {len(result.existing)} already present"
                + (f"; {result.n_controls} control questions." if result.n_controls else ".")
            )
        )


def _find_project(ref: str) -> Project:
    project = Project.objects.filter(pk=int(ref)).first() if ref.isdigit() else None
    project = project or Project.objects.filter(name=ref).first()
    if project is None:
        raise CommandError(f"unknown project {ref!r}: give an existing project's id or name")
    return project
