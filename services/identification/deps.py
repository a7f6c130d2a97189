"""Identification's own dependencies: the registry client and the role groups."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, Role, require
from shared.calls import ServiceClient, client_of

# The registry's REST API as the ``system`` role (timeouts, retries; 503 when it does not answer).
RegistryDep = Annotated[ServiceClient, Depends(client_of("registry"))]
STAFF = (Role.village_cadre, Role.township_reviewer, Role.county_office, Role.system)
Staff = Annotated[Principal, Depends(require(*STAFF))]
Reader = Annotated[Principal, Depends(require(*STAFF, Role.auditor))]
County = Annotated[Principal, Depends(require(Role.county_office, Role.system))]
Anyone = Annotated[Principal, Depends(require(*Role))]
