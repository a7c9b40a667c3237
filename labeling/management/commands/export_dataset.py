"""Export a project's dataset to a file, or to a folder of per-split files with a dataset card.

``--verify PATH`` checks instead that a file or folder is a whole export: a streamed
download's trailer, or a folder's files against its dataset card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.exceptions import ValidationError
from tqdm import tqdm

from labeling.exporting.files import write_export_file, write_export_folder
from labeling.exporting.params import parse_export_params
from labeling.exporting.records import count_tasks
from labeling.exporting.verify import verify_path
from labeling.exporting.writers import FILE_EXTENSIONS, FORMATS, IncompleteExport
from labeling.models import Project

# Command-line option → export parameter (the same names and checks as the API).
FILTER_OPTIONS = (
    "kind",
    "min_agreement",
    "updated_from",
    "updated_to",
    "annotator",
    "split",
    "splits",
    "seed",
)
FLAGS = ("only_adjudicated", "include_unannotated", "reveal_annotators")
EXTENSION_FORMATS = {ext: fmt for fmt, ext in FILE_EXTENSIONS.items()}


class Command(BaseCommand):
    help = (
        "Export a project's labelled dataset. OUTPUT ending in .jsonl/.csv/.parquet is one "
        "file (with a split column); any other OUTPUT is a folder that gets one file per "
        "non-empty split (train/dev/test) and a dataset card README.md. "
        "--verify PATH checks that a downloaded export or a folder is complete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", nargs="?", help="Project id or exact name.")
        parser.add_argument(
            "output", nargs="?", type=Path, help="A .jsonl/.csv/.parquet file, or a folder."
        )
        parser.add_argument(
            "--verify",
            type=Path,
            metavar="PATH",
            help="Check a streamed export file (its trailer) or an export folder (its card).",
        )
        parser.add_argument(
            "--format", choices=FORMATS, default=None, help="Default: from the file name, or jsonl."
        )
        parser.add_argument("--kind", help="A task kind (default: all).")
        parser.add_argument("--min-agreement", help="Only tasks with per-item agreement >= this.")
        parser.add_argument("--only-adjudicated", action="store_true")
        parser.add_argument(
            "--include-unannotated",
            action="store_true",
            help="Also tasks without annotations or gold.",
        )
        parser.add_argument("--updated-from", help="ISO date or datetime (inclusive).")
        parser.add_argument("--updated-to", help="ISO date (whole day) or datetime (inclusive).")
        parser.add_argument("--annotator", help="Username or pseudonym: tasks they labelled.")
        parser.add_argument("--split", help="Only this split.")
        parser.add_argument("--splits", help="Ratios, e.g. train:0.8,dev:0.1,test:0.1.")
        parser.add_argument("--seed", help="Seed of the document-level split (default 0).")
        parser.add_argument(
            "--reveal-annotators",
            action="store_true",
            help="Write real usernames instead of pseudonyms.",
        )

    def handle(self, *args: Any, project: str | None, output: Path | None, **options: Any) -> None:
        if options["verify"] is not None:
            self._verify(options["verify"], options["format"])
            return
        if project is None or output is None:
            raise CommandError("give PROJECT and OUTPUT (or --verify PATH)")
        target = _find_project(project)
        as_file = output.suffix in EXTENSION_FORMATS
        fmt = options["format"] or (EXTENSION_FORMATS[output.suffix] if as_file else "jsonl")
        if as_file and EXTENSION_FORMATS[output.suffix] != fmt:
            raise CommandError(f"--format {fmt} does not match the file name {output.name}")
        params: dict[str, Any] = {
            name: options[name] for name in FILTER_OPTIONS if options.get(name) is not None
        }
        params.update({name: True for name in FLAGS if options[name]})
        params["format"] = fmt
        try:
            fmt, export_options = parse_export_params(target, params)
        except ValidationError as exc:
            raise CommandError(_option_error(exc)) from exc

        total = count_tasks(target, export_options)
        bar = tqdm(
            total=total, unit="task", disable=options.get("verbosity", 1) == 0, mininterval=0.5
        )
        seen = {"n": 0}

        def progress(n: int) -> None:
            seen["n"] = n
            if n - bar.n >= 1000:  # tqdm calls are cheap, but not free per record
                bar.update(n - bar.n)

        if as_file:
            output.parent.mkdir(parents=True, exist_ok=True)
            write_export_file(target, fmt, export_options, output, progress=progress)
            where = str(output)
        else:
            written = write_export_folder(target, fmt, export_options, output, progress=progress)
            where = f"{output}/ ({', '.join(path.name for path in written.values())})"
        bar.update(seen["n"] - bar.n)
        bar.close()
        self.stdout.write(self.style.SUCCESS(f"{seen['n']} records written to {where}"))

    def _verify(self, path: Path, fmt: str | None) -> None:
        try:
            summary = verify_path(path, fmt)
        except IncompleteExport as exc:
            raise CommandError(f"{path}: INCOMPLETE: {exc}") from exc
        except (OSError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"{path}: complete, {summary}"))


def _option_error(exc: ValidationError) -> str:
    """The first error as ``--option: message``."""
    detail = exc.detail
    if isinstance(detail, dict) and detail:
        name, messages = next(iter(detail.items()))
        message = messages[0] if isinstance(messages, list) and messages else messages
        return f"--{str(name).replace('_', '-')}: {message}"
    return str(detail)


def _find_project(ref: str) -> Project:
    project = Project.objects.filter(pk=int(ref)).first() if ref.isdigit() else None
    project = project or Project.objects.filter(name=ref).first()
    if project is None:
        raise CommandError(f"unknown project {ref!r}: give an existing project's id or name")
    return project
