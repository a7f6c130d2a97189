"""Reads of the registry's REST API (its phone directory, its contact coverage) with a service token.

The client is built from the running app's stack settings (set when the app starts), so a job reaches the
registry the app was configured with; ``ServiceClient.pages`` follows a list cursor by cursor to its end.
"""

from __future__ import annotations

from shared.calls import ServiceClient
from shared.settings import StackSettings, stack_settings

STACKS: list[StackSettings] = []


def registry_client() -> ServiceClient:
    return ServiceClient(STACKS[0] if STACKS else stack_settings(), "registry", caller="notifications")
