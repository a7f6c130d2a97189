"""Logs are JSON lines, masked, and honour FUPIN_LOG_LEVEL (structlog's own loggers included)."""

from __future__ import annotations

import json

import pytest
import structlog

from shared.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging():
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def test_a_line_is_json_with_service_level_and_masked_personal_data(capsys) -> None:
    configure_logging("registry", "INFO")
    structlog.get_logger().info("member added", id_number="52232319800506123X")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["service"] == "registry" and line["level"] == "info"
    assert line["id_number"] == "5223**********123X"
    assert line["timestamp"].endswith("Z")


@pytest.mark.parametrize(("level", "shown"), [("warning", ["warning"]), ("INFO", ["info", "warning"])])
def test_the_level_filters_structlog_lines(capsys, level: str, shown: list[str]) -> None:
    configure_logging("funds", level)
    log = structlog.get_logger()
    log.debug("d")
    log.info("i")
    log.warning("w")
    levels = [json.loads(x)["level"] for x in capsys.readouterr().err.strip().splitlines()]
    assert levels == shown
