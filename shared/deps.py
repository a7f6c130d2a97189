"""Typed dependency aliases: the request owns the transaction; nothing below it commits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from shared.clock import Clock
from shared.disclosure import audited_within


def write_session(request: Request) -> Iterator[Session]:
    """A transaction that commits when the handler returns (before the response is sent). It is kept on the
    request so that what the request records beside its change (the audit of a disclosure) joins it: a whole value
    the handler handed out is audited in it, before the commit."""
    with request.app.state.db.transaction() as session, audited_within(request, session):
        yield session


def read_session(request: Request) -> Iterator[Session]:
    with request.app.state.db.reader() as session:
        yield session


async def clock(request: Request) -> Clock:
    return request.app.state.db.clock


# scope="function": the commit happens before the response goes out, so a failed commit is a 500,
# never a 201 for data that did not land.
SessionDep = Annotated[Session, Depends(write_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(read_session, scope="function")]
ClockDep = Annotated[Clock, Depends(clock)]
