"""Prometheus metrics, one registry per service so several services can share a test process.

A service run with several worker processes (``shared.serve --workers N``) keeps its figures in files under
``PROMETHEUS_MULTIPROC_DIR``, which the supervisor makes for it: whichever worker answers ``/metrics`` then reports
the sums over every worker (prometheus-client's multiprocess mode), not its own share.
"""

from __future__ import annotations

import os
import resource
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

disable_created_metrics()  # the *_created series only double what a dashboard has to filter out

METRIC_NAMES = (
    "fupin_http_requests_total",
    "fupin_http_request_duration_seconds",
    "fupin_outbox_backlog",
    "fupin_events_published_total",
    "fupin_events_consumed_total",
    "fupin_consumer_pending",
    "fupin_dead_letters_total",
)


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"service": service}
        self.requests = Counter(
            "fupin_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        ).labels
        self.latency = Histogram(
            "fupin_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        ).labels
        # (method, route, status) → (counter child, histogram child): ``labels()`` takes a lock and checks its
        # arguments on every call; a service has a few dozen routes, so the children are kept once made.
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.outbox_backlog = Gauge(
            "fupin_outbox_backlog",
            "Outbox rows not yet published",
            ["service"],
            registry=self.registry,
            multiprocess_mode="livemax",  # set by the worker that runs the relay; the others hold 0
        ).labels(**labels)
        self.events_published = Counter(
            "fupin_events_published", "Events the relay published", ["service"], registry=self.registry
        ).labels(**labels)
        self.events_consumed = Counter(
            "fupin_events_consumed",
            "Events consumed, by consumer and outcome",
            ["consumer", "outcome"],
            registry=self.registry,
        ).labels
        self.consumer_pending = Gauge(
            "fupin_consumer_pending",
            "Messages not yet delivered to a durable consumer (lag)",
            ["consumer"],
            registry=self.registry,
            multiprocess_mode="livemax",
        ).labels
        self.dead_letters = Counter(
            "fupin_dead_letters",
            "Events moved to the dead-letter stream",
            ["consumer"],
            registry=self.registry,
        ).labels

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency, by method, route template and status."""
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = (self.requests(method=method, route=route, status=str(status)), self.latency(method, route))
            if len(self._request_children) < 10_000:  # route templates, not paths: bounded anyway
                self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)


def exposition(registry: CollectorRegistry) -> bytes:
    """The text ``/metrics`` answers: this registry's, or with several workers the sums over all of them."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return generate_latest(registry)
    combined = CollectorRegistry()
    MultiProcessCollector(combined, path=folder)
    return generate_latest(combined)


def rss_mb() -> float:
    """This process's resident memory now, in MiB (Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
