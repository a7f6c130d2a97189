"""Uploaded spreadsheets, spooled to the data folder so background work can stream them from disk."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from fastapi import Request, UploadFile

from services.registry.tabular import XLSX_SUFFIXES
from shared.errors import ValidationFailed

SUFFIXES = (".csv", *XLSX_SUFFIXES)


def spool(request: Request, upload: UploadFile, *, folder: str) -> Path:
    """Copy the upload to ``<data_dir>/registry/<folder>/`` in chunks; the suffix says CSV or XLSX."""
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationFailed(f"a {', '.join(SUFFIXES)} file is expected, not {suffix or 'no suffix'}", field="file")
    target = Path(request.app.state.stack.data_dir) / "registry" / folder / f"{uuid.uuid4().hex}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out, length=1 << 20)
    return target
