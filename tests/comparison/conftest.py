"""Comparison fixtures: identification's (the app beside a real registry over HTTP, one frozen clock, tokens)."""

from tests.identification.conftest import api, cadre, clock, county, ident_stack, reg, registry, township

__all__ = ["api", "cadre", "clock", "county", "ident_stack", "reg", "registry", "township"]
