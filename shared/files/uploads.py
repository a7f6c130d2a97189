"""Uploads, spooled to the data folder so background work can stream them from disk.

The name on disk is ours (a fresh id and the checked suffix): nothing the client sends reaches the file
system. The copy stops as soon as it passes ``max_bytes`` (a 413 problem+json, nothing left behind), and the
file's first bytes must fit its suffix (a renamed executable is not a PDF).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request, UploadFile

from shared.errors import DomainError, ValidationFailed
from shared.files.tabular import XLSX_SUFFIXES
from shared.ids import new_id

TABULAR_SUFFIXES = (".csv", *XLSX_SUFFIXES)
CHUNK = 1 << 20

# What a file of each suffix starts with; a suffix missing here is checked by suffix alone (CSV is text).
MAGIC: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".xlsx": (b"PK\x03\x04",),
    ".xlsm": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",),
    ".xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".parquet": (b"PAR1",),
}


class TooLarge(DomainError):
    status = 413
    code = "too_large"
    title = "Upload too large"


@dataclass(frozen=True)
class Spooled:
    path: Path
    size: int
    sha256: str
    original_name: str


def spool_file(
    request: Request,
    upload: UploadFile,
    *,
    folder: str,
    suffixes: tuple[str, ...] = TABULAR_SUFFIXES,
    max_bytes: int | None = None,
    field: str = "file",
    check_content: bool = True,
) -> Spooled:
    """Copy ``upload`` to ``<data_dir>/<service>/<folder>/`` in chunks, checking size, suffix and content."""
    max_bytes = max_bytes or request.app.state.stack.max_upload_bytes
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in suffixes:
        raise ValidationFailed(f"a {', '.join(suffixes)} file is expected, not {suffix or 'no suffix'}", field=field)
    service = request.app.state.runtime.spec.name
    target = Path(request.app.state.stack.data_dir) / service / folder / f"{new_id()}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256()
    size = 0
    try:
        with target.open("wb") as out:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"the file is larger than {max_bytes:,} bytes", field=field)
                if check_content and size == len(chunk):
                    _check_magic(chunk, suffix, field)
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationFailed("the file is empty", field=field)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return Spooled(path=target, size=size, sha256=digest.hexdigest(), original_name=upload.filename or "")


def _check_magic(head: bytes, suffix: str, field: str) -> None:
    expected = MAGIC.get(suffix)
    if expected and not head.startswith(expected):
        raise ValidationFailed(f"the file's content is not a {suffix} file", field=field)


def spool(request: Request, upload: UploadFile, *, folder: str) -> Path:
    """A table upload (CSV or a spreadsheet) spooled; its path. The table reader judges a damaged file itself."""
    return spool_file(request, upload, folder=folder, check_content=False).path
