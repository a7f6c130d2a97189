"""Where the CLI finds each service."""

from __future__ import annotations

import importlib

from shared.service import ServiceSpec
from shared.settings import SERVICE_PORTS

SERVICES = tuple(SERVICE_PORTS)


def load_spec(name: str) -> ServiceSpec:
    if name not in SERVICE_PORTS:
        raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.main").SPEC
