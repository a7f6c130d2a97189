"""Identification's own dependencies: the registry client and the role groups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from shared.auth import Principal, Role, require
from shared.calls import ServiceClient


def registry_client(request: Request) -> Iterator[ServiceClient]:
    """The registry's REST API as the ``system`` role (timeouts, retries; 503 when it does not answer)."""
    client = ServiceClient(request.app.state.stack, "registry", caller="identification")
    try:
        yield client
    finally:
        client.close()


RegistryDep = Annotated[ServiceClient, Depends(registry_client)]
STAFF = (Role.village_cadre, Role.township_reviewer, Role.county_office, Role.system)
Staff = Annotated[Principal, Depends(require(*STAFF))]
Reader = Annotated[Principal, Depends(require(*STAFF, Role.auditor))]
County = Annotated[Principal, Depends(require(Role.county_office, Role.system))]
Anyone = Annotated[Principal, Depends(require(*Role))]
