"""Is this a whole export? A streamed file's trailer, or a folder's files against its card."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from labeling.exporting.writers import FILE_EXTENSIONS, IncompleteExport, verify_export

# A row of the card's "Files" table: | split | `file` | records | `sha256` |
_FILE_ROW = re.compile(
    r"^\| .+? \| `(?P<name>[^`]+)` \| (?P<records>\d+) \| `(?P<sha>[0-9a-f]{64})` \|$"
)
_EXTENSION_FORMATS = {ext: fmt for fmt, ext in FILE_EXTENSIONS.items()}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def verify_folder(folder: Path) -> dict[str, int]:
    """``{file name: records}`` of a folder export whose files all match its README.md."""
    readme = folder / "README.md"
    if not readme.is_file():
        raise IncompleteExport(f"no README.md in {folder}: not an export folder")
    listed = {
        m["name"]: (int(m["records"]), m["sha"])
        for line in readme.read_text(encoding="utf-8").splitlines()
        if (m := _FILE_ROW.match(line))
    }
    if not listed:
        raise IncompleteExport("the dataset card lists no files")
    for name, (_, sha) in listed.items():
        path = folder / name
        if not path.is_file():
            raise IncompleteExport(f"{name} is missing")
        if _sha256(path) != sha:
            raise IncompleteExport(f"{name} differs from the card (SHA-256): cut short or altered")
    return {name: records for name, (records, _) in listed.items()}


def verify_path(path: Path, fmt: str | None = None) -> str:
    """A summary of a complete export at ``path``, or :class:`IncompleteExport`."""
    if path.is_dir():
        files = verify_folder(path)
        return ", ".join(f"{name}: {n} records" for name, n in files.items())
    fmt = fmt or _EXTENSION_FORMATS.get(path.suffix)
    if fmt is None:
        raise ValueError("give --format: the file name does not say it")
    return f"{verify_export(path, fmt)} records"
