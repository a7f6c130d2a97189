"""``./fupin up`` on an empty data folder brings all five services to ready; a second run keeps the data.
``--demo`` imports the demo households once: the second run finds them all already there."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from shared.settings import SERVICE_PORTS
from tests.support.builders import household_body
from tests.support.leaks import personal_data_in
from tests.support.ports import free_port, free_port_block
from tests.support.procs import ROOT, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DEMO = ("--demo", "--demo-households", "40")
PATIENT = ("--ready-timeout", "180")  # a loaded CI machine starting five services on PostgreSQL


def start_stack(data_dir: Path, env: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    log = (data_dir.parent / "up.log").open("ab")
    return subprocess.Popen(
        [str(ROOT / "fupin"), "up", "--data-dir", str(data_dir), *options],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def log_tail(data_dir: Path, lines: int = 60) -> str:
    log = data_dir.parent / "up.log"
    said = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    return "\n".join(["--- what fupin up said, last lines ---", *said[-lines:]])


@contextmanager
def running_stack(data_dir: Path, env: dict[str, str], *options: str) -> Iterator[subprocess.Popen[bytes]]:
    """``fupin up`` for the length of the block, stopped by Ctrl-C after it; a failure shows what ``up`` said
    (and is not hidden by the stop's exit code)."""
    proc = start_stack(data_dir, env, *options)
    try:
        yield proc
    except BaseException as exc:
        with suppress(Exception):
            stop_stack(proc)
        exc.add_note(log_tail(data_dir))
        raise
    assert stop_stack(proc) == 0, log_tail(data_dir)


def stop_stack(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


def all_ready(base: int, proc: subprocess.Popen[bytes]) -> bool:
    """Every service answers /readyz; a stack that has ended fails the test at once."""
    if proc.poll() is not None:
        pytest.fail(f"fupin up ended (exit {proc.returncode}) before every service was ready")
    return all(
        httpx.get(f"http://127.0.0.1:{base + i + 1}/readyz", timeout=2).status_code == 200
        for i in range(len(SERVICE_PORTS))
    )


def demo_lines(data_dir: Path) -> list[str]:
    """What ``fupin up --demo`` said about the demo import, one line per run so far."""
    log = (data_dir.parent / "up.log").read_text(encoding="utf-8")
    return [line for line in log.splitlines() if line.startswith("demo data")]


def count_households(base: int, headers: dict[str, str]) -> int:
    """The households the county office of 522323 sees, every page."""
    count, cursor = 0, None
    while True:
        params = {"region": "522323", "limit": 500} | ({"cursor": cursor} if cursor else {})
        page = httpx.get(f"http://127.0.0.1:{base + 1}/api/v1/households", params=params, headers=headers).json()
        count += len(page["items"])
        if not (cursor := page["next_cursor"]):
            return count


def test_up_starts_everything_and_a_second_run_keeps_the_data(tmp_path: Path, token, backend, request) -> None:
    data_dir = tmp_path / "var"
    base = free_port_block(len(SERVICE_PORTS) + 1)  # the services take base + 1 …, away from the defaults
    env = {**os.environ, "FUPIN_PORT_BASE": str(base), "FUPIN_NATS_PORT": str(free_port())}
    env.pop("FUPIN_POSTGRES_URL", None)
    options = ("--postgres", request.getfixturevalue("postgres_server").url) if backend == "postgres" else ()

    county = token("county_office", region="522323")
    with running_stack(data_dir, env, *options, *DEMO, *PATIENT) as proc:
        wait_until(lambda: all_ready(base, proc), timeout=200, what="all five services ready")
        said = wait_until(lambda: demo_lines(data_dir), timeout=60, what="the demo import")
        members = len((data_dir / "demo-households.csv").read_text(encoding="utf-8").splitlines()) - 1
        assert f"households created 40, members created {members}, rows already there 0, bad rows 0" in said[0]
        assert count_households(base, county) == 40
        created = httpx.post(
            f"http://127.0.0.1:{base + 1}/api/v1/households",
            json=household_body(),
            headers=token("county_office"),
            timeout=10,
        )
        assert created.status_code == 201, created.text
        household_id = created.json()["id"]
        wait_until(
            lambda: (
                httpx.get(
                    f"http://127.0.0.1:{base + 2}/api/v1/households/{household_id}", headers=token("county_office")
                ).status_code
                == 200
            ),
            what="identification saw the household",
        )
    expected_files = [] if backend == "postgres" else sorted(f"{s}.db" for s in SERVICE_PORTS)
    assert sorted(p.name for p in data_dir.glob("*.db")) == expected_files

    with running_stack(data_dir, env, *options, *DEMO, *PATIENT) as proc:
        wait_until(lambda: all_ready(base, proc), timeout=200, what="all five services ready again")
        said = wait_until(lambda: len(demo_lines(data_dir)) == 2 and demo_lines(data_dir), what="the second import")
        assert f"households created 0, members created 0, rows already there {members}, bad rows 0" in said[1]
        assert count_households(base, county) == 40 + 1  # the demo's and the one registered above
        again = httpx.get(
            f"http://127.0.0.1:{base + 1}/api/v1/households/{household_id}", headers=token("county_office")
        )
        assert again.status_code == 200
        assert again.json()["hukou_number"] == created.json()["hukou_number"]


def _names(arg: str, word: str) -> bool:
    """``arg`` is ``word``, a path ending in it, a path under it, or ``word:attribute`` (never a longer number)."""
    return arg == word or arg.endswith("/" + word) or arg.startswith((word + "/", word + ":"))


def pids_whose_command_has(*needles: str) -> list[int]:
    """Processes whose arguments include every needle as whole arguments (``--port 8001`` is two of them)."""
    wanted = [part for needle in needles for part in needle.split()]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if all(any(_names(arg, w) for arg in argv) for w in wanted):
            found.append(int(entry.name))
    return found


def test_the_stack_restarts_what_crashes_and_stops_only_on_ctrl_c(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    base = free_port_block(len(SERVICE_PORTS) + 1)
    env = {**os.environ, "FUPIN_PORT_BASE": str(base), "FUPIN_NATS_PORT": str(free_port())}
    env.pop("FUPIN_POSTGRES_URL", None)
    with running_stack(data_dir, env, *PATIENT) as proc:
        wait_until(lambda: all_ready(base, proc), timeout=200, what="all five services ready")
        # Supervision starts once up has said so (a crash before that is a failed start, and ends the stack).
        up_log = data_dir.parent / "up.log"
        wait_until(lambda: "ready. logs in" in up_log.read_text(encoding="utf-8"), timeout=60, what="up says ready")
        [nats_pid] = pids_whose_command_has("nats-server", str(data_dir))
        [registry_pid] = pids_whose_command_has("shared.serve", "services.registry.main", f"--port {base + 1}")
        os.kill(nats_pid, signal.SIGKILL)
        os.kill(registry_pid, signal.SIGKILL)
        wait_until(lambda: all_ready(base, proc), timeout=120, what="every service ready again")
        assert proc.poll() is None  # the stack kept running
        assert pids_whose_command_has("nats-server", str(data_dir)) != [nats_pid]
        said = (data_dir.parent / "up.log").read_text(encoding="utf-8")
        assert "nats exited with" in said and "registry exited with" in said
        assert said.count("restarting (restart 1)") >= 2
    assert not Path(f"/proc/{nats_pid}").exists()  # reaped, not a zombie


def test_the_data_folder_is_the_operators_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    base = free_port_block(len(SERVICE_PORTS) + 1)
    env = {**os.environ, "FUPIN_PORT_BASE": str(base), "FUPIN_NATS_PORT": str(free_port())}
    env.pop("FUPIN_POSTGRES_URL", None)
    env.pop("FUPIN_JWT_SECRET", None)  # the development key is made in the data folder
    with running_stack(data_dir, env, *DEMO, *PATIENT) as proc:
        wait_until(lambda: all_ready(base, proc), timeout=200, what="all five services ready")
        wait_until(lambda: bool(demo_lines(data_dir)), timeout=200, what="the demo import")
    exposed = [
        f"{p.relative_to(data_dir)} {oct(p.stat().st_mode & 0o777)}"
        for p in [data_dir, *data_dir.rglob("*")]
        if p.stat().st_mode & 0o077 and not p.is_symlink()
    ]
    assert exposed == []
    assert oct((data_dir / "secrets" / "jwt.key").stat().st_mode & 0o777) == "0o600"
    # The demo import handled 40 households' whole IDs and phones: none of them reached a log.
    logged = "".join(p.read_text(encoding="utf-8", errors="replace") for p in data_dir.glob("*.log"))
    assert logged and personal_data_in(logged) is None
