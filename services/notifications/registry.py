"""Reads of the registry's REST API (its phone directory, its contact coverage) with a service token.

The client is built from the running app's stack settings (set when the app starts), so a job reaches the
registry the app was configured with; a page list is followed cursor by cursor to its end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.calls import ServiceClient
from shared.settings import StackSettings, stack_settings

STACKS: list[StackSettings] = []
PAGE_SIZE = 500


def registry_client() -> ServiceClient:
    return ServiceClient(STACKS[0] if STACKS else stack_settings(), "registry", caller="notifications")


def pages(client: ServiceClient, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of a paged registry list (``Page``: items and next_cursor), first to last."""
    query = {"limit": PAGE_SIZE, **params}
    while True:
        page = client.get_json(path, params=query)
        yield page
        if not page.get("next_cursor"):
            return
        query["cursor"] = page["next_cursor"]
