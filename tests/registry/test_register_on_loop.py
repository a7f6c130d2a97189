"""On SQLite a registration runs on the event loop when the write lock is free at once; when another writer holds
it (the CLI, a second worker), it waits in the thread pool, and the loop keeps answering meanwhile."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from services.registry.main import create_app
from shared.clock import FrozenClock
from shared.db import Database
from shared.settings import StackSettings
from tests.support.builders import household_body
from tests.support.procs import wait_until
from tests.support.served import ServedApp
from tests.support.sql import Sql


def writes_of(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int | None, bool]]:
    """Every write transaction begun from here on: the thread and whether it may wait for the lock."""
    tries: list[tuple[int | None, bool]] = []
    begin = db.transaction

    def spied(*, wait: bool = True) -> Any:
        tries.append((threading.get_ident(), wait))
        return begin(wait=wait)

    monkeypatch.setattr(db, "transaction", spied)
    return tries


@pytest.fixture
def served(
    registry_url: str, stack: StackSettings, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ServedApp, list[tuple[int | None, bool]]]]:
    """The registry served on a real socket, and the write transactions it begins."""
    app = create_app(stack=stack, clock=clock)
    with ServedApp(app) as server:
        yield server, writes_of(app.state.db, monkeypatch)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_registration_waits_for_the_lock_off_the_event_loop(
    registry_url: str, served: tuple[ServedApp, list[tuple[int | None, bool]]], county: dict[str, str], sql: Sql
) -> None:
    server, tries = served
    holder = sqlite3.connect(registry_url.split("///", 1)[1], isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process's writer holds SQLite's write lock
    try:
        with ThreadPoolExecutor(1) as pool:
            post = pool.submit(
                httpx.post, f"{server.url}/api/v1/households", json=household_body(), headers=county, timeout=60
            )
            # the try on the loop meets the lock, writes nothing and hands the registration to the thread pool
            loop_try = (server.thread.ident, False)
            wait_until(lambda: loop_try in tries, what="the registration's try on the event loop")
            for _ in range(3):  # meanwhile the event loop answers (it would hang, were it waiting)
                assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
            assert not post.done()
            holder.execute("ROLLBACK")
            assert post.result().status_code == 201, post.result().text
    finally:
        holder.close()
    assert sql("SELECT count(*) FROM household") == 1
    assert sql("SELECT count(*) FROM outbox") == 1  # one announcement: the refused try left nothing


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_registration_with_the_lock_free_runs_on_the_event_loop(
    served: tuple[ServedApp, list[tuple[int | None, bool]]], county: dict[str, str], sql: Sql
) -> None:
    server, tries = served
    done = httpx.post(f"{server.url}/api/v1/households", json=household_body(), headers=county, timeout=30)
    assert done.status_code == 201, done.text
    assert [t for t in tries if not t[1]] == [(server.thread.ident, False)]  # on the loop's thread, not waiting
    assert sql("SELECT count(*) FROM member") == len(household_body()["members"])
