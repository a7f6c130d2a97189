"""Media types of the files the services hand out, and the header that makes a browser save one."""

from __future__ import annotations

from urllib.parse import quote

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def attachment(filename: str) -> dict[str, str]:
    """``Content-Disposition`` for a download; the name may be Chinese (RFC 5987 encoding)."""
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}
