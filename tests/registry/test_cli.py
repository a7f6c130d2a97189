"""The CLI against a live registry: ``fupin import households`` and ``fupin regions load``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from services.registry import cli
from shared.natsserver import NatsServer
from tests.registry.files import household_rows, write_csv
from tests.support.procs import ServiceProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def live(tmp_path: Path, nats_server: NatsServer) -> Iterator[ServiceProcess]:
    import os

    env = {
        "FUPIN_NATS_URL": nats_server.url,
        "FUPIN_DATA_DIR": str(tmp_path / "var"),
        "FUPIN_JWT_SECRET": os.environ["FUPIN_JWT_SECRET"],
        "FUPIN_REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
    }
    process = ServiceProcess("registry", env, tmp_path)
    process.start()
    yield process
    process.stop()


def test_import_and_region_load(live: ServiceProcess, tmp_path: Path) -> None:
    app = typer.Typer()
    cli.install(app)
    runner = CliRunner()
    rows = household_rows("HK-CLI-1", 3) + household_rows("HK-CLI-2", 2)
    rows[-1]["身份证号"] = "123"
    path = write_csv(tmp_path / "h.csv", rows)
    result = runner.invoke(app, ["import", "households", str(path), "--url", live.url])
    assert result.exit_code == 2, result.output  # bad rows were reported
    assert "households created 1" in result.output and "row 6" in result.output

    regions = tmp_path / "r.csv"
    regions.write_text("code,name\n5224,毕节市\n", encoding="utf-8")
    result = runner.invoke(app, ["regions", "load", str(regions), "--url", live.url])
    assert result.exit_code == 0 and "regions created 1" in result.output, result.output
