"""The registry's routes: each area's router, in the order the OpenAPI page lists them."""

from __future__ import annotations

from services.registry.assistance import api as assistance
from services.registry.conflicts import api as conflicts
from services.registry.directory import api as directory
from services.registry.exports import api as exports
from services.registry.households import api as households
from services.registry.imports import api as imports
from services.registry.members import api as members
from services.registry.regions import api as regions
from services.registry.snapshot import api as snapshot

ROUTERS = [households.router, members.router, assistance.router, regions.router, imports.router, exports.router]
ROUTERS += [snapshot.router, conflicts.router]
ROUTERS += [directory.router]
