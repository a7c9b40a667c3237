"""Export files: one data file (the job's and the command's), or a folder of splits + a card.

Files are written to a temporary name beside the target and renamed when complete, so a
crash never leaves a half-written file under the final name. Data files hold records
only; a streamed HTTP export adds the completeness trailer instead
(:func:`labeling.exporting.records.stream_export`).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from labeling.exporting.card import SplitFile, dataset_card
from labeling.exporting.params import ExportOptions
from labeling.exporting.records import export_value_type, iter_records
from labeling.exporting.writers import FILE_EXTENSIONS, write_records
from labeling.models import Project

Progress = Callable[[int], None]


@dataclass
class Tally:
    """Counts gathered while records stream past, for progress and the dataset card."""

    progress: Progress | None = None
    n_records: int = 0
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    gold_methods: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def watch(self, records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Pass ``records`` through, counting them."""
        for record in records:
            self.n_records += 1
            self.counts[record["split"]][record["kind"]] += 1
            if record["gold_method"]:
                self.gold_methods[record["kind"]][record["gold_method"]] += 1
            if self.progress is not None:
                self.progress(self.n_records)
            yield record


def _write_atomically(chunks: Iterator[bytes], path: Path) -> tuple[int, str]:
    """Write ``chunks`` to ``path`` via a temporary file; returns (bytes, SHA-256 hex)."""
    partial = path.with_name(f".{path.name}.partial")
    digest = hashlib.sha256()
    size = 0
    try:
        with open(partial, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return size, digest.hexdigest()


def _chunks(project: Project, fmt: str, options: ExportOptions, tally: Tally) -> Iterator[bytes]:
    extra = {"value_type": export_value_type(project, options)} if fmt == "parquet" else {}
    return write_records(tally.watch(iter_records(project, options)), fmt, **extra)


def write_export_file(
    project: Project,
    fmt: str,
    options: ExportOptions,
    path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> int:
    """Write the export to ``path`` chunk by chunk; returns the number of records."""
    tally = Tally(progress=progress)
    _write_atomically(_chunks(project, fmt, options, tally), Path(path))
    return tally.n_records


def write_export_folder(
    project: Project,
    fmt: str,
    options: ExportOptions,
    folder: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Write one data file per non-empty split and a dataset card ``README.md``.

    Each split is one streamed pass (constant memory). A split without records gets no
    file (``datasets.load_dataset`` refuses an empty split) and the card says so; the
    card's front matter lists every file with its number of records, which
    ``load_dataset`` checks. Returns ``{split or "README": path}``.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    splits = list(options.ratios) if options.split is None else [options.split]
    tally = Tally(progress=progress)  # counts records over all splits
    written: dict[str, Path] = {}
    files: list[SplitFile] = []
    for split in splits:
        path = out / f"{split}{FILE_EXTENSIONS[fmt]}"
        before = tally.n_records
        size, sha256 = _write_atomically(
            _chunks(project, fmt, replace(options, split=split), tally), path
        )
        n_records = tally.n_records - before
        if n_records == 0:
            path.unlink()
            continue
        written[split] = path
        files.append(SplitFile(split, path.name, n_records, size, sha256))
    readme = out / "README.md"
    card = dataset_card(project, fmt, options, tally.counts, tally.gold_methods, files)
    readme.write_text(card, encoding="utf-8")
    written["README"] = readme
    return written
