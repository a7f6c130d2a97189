"""An event written in a transaction reaches consumers in other services exactly once, through crashes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from shared.clock import SHANGHAI
from shared.natsserver import NatsServer
from tests.support.builders import household_body
from tests.support.procs import ROOT, wait_until
from tests.support.stack import ProcessStack

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CONSUMER = "identification-households"


@pytest.fixture
def nats_server(own_nats_server: NatsServer) -> NatsServer:
    """These tests stop the broker and wipe its disk: a server of their own, not the worker's."""
    return own_nats_server


@pytest.fixture
def procs(tmp_path: Path, nats_server: NatsServer, database_url) -> Iterator[ProcessStack]:  # type: ignore[no-untyped-def]
    stack = ProcessStack(tmp_path, nats_server, database_url, ["registry", "identification", "notifications"])
    yield stack
    stack.stop()


def seen_by_identification(procs: ProcessStack, household_id: str) -> int:
    return procs.scalar("identification", "SELECT count(*) FROM householdfile WHERE household_id = :h", h=household_id)


def inbox_rows(procs: ProcessStack, service: str) -> int:
    return procs.scalar(service, "SELECT count(*) FROM inbox")


def unsent(procs: ProcessStack) -> int:
    return procs.scalar("registry", "SELECT count(*) FROM outbox WHERE sent_at IS NULL")


class TestExactlyOnce:
    def test_registered_household_reaches_identification_and_notifications_once(self, procs, token) -> None:
        procs.start()
        response = procs.register(household_body(), token("county_office"))
        assert response.status_code == 201, response.text
        household_id = response.json()["id"]

        wait_until(lambda: seen_by_identification(procs, household_id) == 1, what="identification read copy")
        wait_until(
            lambda: (
                procs.scalar(
                    "notifications", "SELECT count(*) FROM householdrecipient WHERE household_id = :h", h=household_id
                )
                == 1
            ),
            what="notifications recipient",
        )
        assert inbox_rows(procs, "identification") == 1
        assert inbox_rows(procs, "notifications") == 1
        assert unsent(procs) == 0
        identification = procs["identification"]
        wait_until(
            lambda: "fupin_consumer_pending{" in httpx.get(f"{identification.url}/metrics").text,
            what="consumer lag reported",
        )
        assert identification.metric("fupin_consumer_pending", consumer=CONSUMER) == 0
        assert identification.metric("fupin_events_consumed_total", consumer=CONSUMER, outcome="applied") == 1
        assert procs["registry"].metric("fupin_events_published_total", service="registry") == 1

    def test_relay_killed_after_publish_before_marking_sent(self, procs, token) -> None:
        """(a) SIGKILL between JetStream's ack and the UPDATE that marks the row sent."""
        procs.start("identification")
        procs["registry"].start(extra_env={"FUPIN_REGISTRY_RUN_RELAY": "false"})
        ids = [procs.register(household_body(), token("county_office")).json()["id"] for _ in range(3)]
        procs["registry"].stop()
        assert unsent(procs) == 3

        procs["registry"].start(faults="relay.after_publish", wait=False)
        assert procs["registry"].wait_exit() == -9  # killed by its own fault point, after publishing
        assert unsent(procs) == 3  # never marked: the crash came first
        wait_until(
            lambda: all(seen_by_identification(procs, h) == 1 for h in ids), what="delivery of the first publish"
        )

        procs["registry"].start()  # the relay publishes the same rows again
        wait_until(lambda: unsent(procs) == 0, what="rows marked sent after restart")
        assert [seen_by_identification(procs, h) for h in ids] == [1, 1, 1]
        assert inbox_rows(procs, "identification") == 3

    def test_consumer_crashes_after_effect_before_ack(self, procs, token) -> None:
        """(b) the handler's transaction committed, the process died before acking: redelivery is a no-op."""
        procs.start("registry")
        procs["identification"].start(faults="consumer.after_commit")
        household_id = procs.register(household_body(), token("county_office")).json()["id"]
        assert procs["identification"].wait_exit() == -9
        assert seen_by_identification(procs, household_id) == 1

        procs["identification"].start()
        wait_until(
            lambda: (
                procs["identification"].metric("fupin_events_consumed_total", consumer=CONSUMER, outcome="duplicate")
                >= 1
            ),
            timeout=30,
            what="the unacked event redelivered and recognised as a duplicate",
        )
        assert seen_by_identification(procs, household_id) == 1
        assert inbox_rows(procs, "identification") == 1

    def test_writes_succeed_while_nats_is_down_and_flow_when_it_returns(self, procs, token, nats_server) -> None:
        """(c) the outbox grows while the broker is away; nothing is lost or applied twice."""
        procs.start()
        nats_server.stop()
        ids = []
        for _ in range(4):
            response = procs.register(household_body(), token("county_office"))
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        assert unsent(procs) == 4
        wait_until(
            lambda: procs["registry"].metric("fupin_outbox_backlog", service="registry") == 4,
            what="outbox backlog metric",
        )

        nats_server.start()
        wait_until(
            lambda: all(seen_by_identification(procs, h) == 1 for h in ids),
            timeout=60,
            what="delivery after NATS returned",
        )
        wait_until(lambda: unsent(procs) == 0, what="outbox drained")
        # Each consumer catches up at its own pace once the broker is back: wait for the slower one.
        wait_until(lambda: inbox_rows(procs, "notifications") >= 4, timeout=60, what="notifications caught up")
        assert inbox_rows(procs, "identification") == 4
        assert inbox_rows(procs, "notifications") == 4


class TestBrokerLosesItsData:
    def test_replay_from_the_outbox_restores_delivery_without_double_effects(self, procs, token, nats_server) -> None:
        """After a broker loses its store, ``fupin events replay --since`` republishes; inboxes drop repeats."""
        procs.start("registry", "identification")
        before = datetime.now(SHANGHAI) - timedelta(minutes=1)
        ids = [procs.register(household_body(), token("county_office")).json()["id"] for _ in range(2)]
        wait_until(lambda: all(seen_by_identification(procs, h) == 1 for h in ids), what="first delivery")
        wait_until(lambda: unsent(procs) == 0, what="outbox drained")

        nats_server.stop()
        shutil.rmtree(nats_server.store_dir)  # the broker's disk is gone
        nats_server.start()
        later = procs.register(household_body(), token("county_office")).json()["id"]
        wait_until(lambda: seen_by_identification(procs, later) == 1, timeout=60, what="new events flow again")

        env = {**os.environ, "FUPIN_REGISTRY_DATABASE_URL": procs.urls["registry"], "FUPIN_NATS_URL": nats_server.url}
        replay = subprocess.run(
            [
                sys.executable,
                "-m",
                "shared.cli",
                "events",
                "replay",
                "--since",
                before.isoformat(),
                "--service",
                "registry",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        assert replay.returncode == 0, replay.stderr
        assert "registry: 3 events queued" in replay.stdout
        duplicates = {"consumer": CONSUMER, "outcome": "duplicate"}
        # The two events the broker lost come again and are recognised by the inbox; the third is still in
        # JetStream's duplicate window, so JetStream itself drops the copy.
        wait_until(
            lambda: procs["identification"].metric("fupin_events_consumed_total", **duplicates) == 2,
            timeout=60,
            what="the replayed events reach identification and are recognised",
        )
        assert [seen_by_identification(procs, h) for h in [*ids, later]] == [1, 1, 1]
        assert inbox_rows(procs, "identification") == 3
