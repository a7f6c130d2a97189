"""Attachments of a case (signed forms, minutes, photos): size-limited, type-checked by content, checksummed."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlmodel import Session

from services.identification.cases import service
from services.identification.deps import Reader, Staff
from services.identification.models import Attachment
from shared.clock import session_clock
from shared.deps import ReadSessionDep, SessionDep
from shared.files import mime
from shared.files.uploads import spool_file
from shared.scope import check_in_scope

router = APIRouter(tags=["cases"])
MAX_BYTES = 10 << 20
TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


class AttachmentPublic(BaseModel):
    id: str
    case_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str


def _store(session: Session, request: Request, case_id: str, file: UploadFile, subject: str) -> Attachment:
    spooled = spool_file(request, file, folder="attachments", suffixes=tuple(TYPES), max_bytes=MAX_BYTES)
    attachment = Attachment(
        case_id=case_id,
        region_code="",
        filename=(spooled.original_name or spooled.path.name)[:200],
        content_type=TYPES[spooled.path.suffix],
        size=spooled.size,
        sha256=spooled.sha256,
        path=str(spooled.path),
        uploaded_by=subject,
        uploaded_at=session_clock(session).now(),
    )
    return attachment


@router.post("/cases/{case_id}/attachments", status_code=201, response_model=AttachmentPublic)
def upload_attachment(
    case_id: str, file: UploadFile, request: Request, session: SessionDep, principal: Staff
) -> AttachmentPublic:
    """Upload a PDF, PNG or JPEG (at most 10 MB) for the case; its id goes into a step's evidence."""
    case = service.get_case(session, case_id, principal)
    attachment = _store(session, request, case.id, file, principal.subject)
    attachment.region_code = case.region_code
    session.add(attachment)
    session.flush()
    return AttachmentPublic.model_validate(attachment.model_dump())


@router.get("/cases/{case_id}/attachments/{attachment_id}")
def download_attachment(case_id: str, attachment_id: str, session: ReadSessionDep, principal: Reader) -> FileResponse:
    """The file, for roles inside the case's region only."""
    found = session.get(Attachment, attachment_id)
    found = check_in_scope(
        found if found and found.case_id == case_id else None,
        principal,
        found.region_code if found else None,
        what="attachment",
        key=attachment_id,
    )
    return FileResponse(
        Path(found.path), media_type=found.content_type, headers=mime.attachment(f"{found.id}{Path(found.path).suffix}")
    )
