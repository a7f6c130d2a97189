"""Where the CLI finds each service."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from shared.service import ServiceSpec
from shared.settings import SERVICE_PORTS

SERVICES = tuple(SERVICE_PORTS)


def load_spec(name: str) -> ServiceSpec:
    if name not in SERVICE_PORTS:
        raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.main").SPEC


def service_cli(name: str) -> ModuleType | None:
    """``services/<name>/cli.py``, where a service keeps its own commands (``install(app)``) and demo data."""
    module = f"services.{name}.cli"
    if importlib.util.find_spec(module) is None:
        return None
    return importlib.import_module(module)
