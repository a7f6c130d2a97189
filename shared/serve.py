"""How a service process is run: ``python -m shared.serve services.registry.main:create_app --port 8001
--workers 2``. uvicorn serves the app factory; with more than one worker each worker process listens on a socket
of its own bound with ``SO_REUSEPORT``, and the kernel spreads new connections over them.

Why not ``uvicorn --workers``: its workers share one listening socket, and the first to wake accepts every
connection queued. A load balancer or a bulk caller opening 32 keep-alive connections at once handed all of them
to one worker while the other idled (measured: 2 workers 1.0 core busy, 0.9 idle; balanced they served 1.8 x one).

The supervisor (this process, with ``--workers`` above 1) restarts a worker that dies and stops everything when a
worker fails to start (uvicorn's exit code 3: the app, its settings or the port are wrong and would fail again);
SIGTERM or SIGINT stops the workers gracefully and ends it. It also gives the workers a folder for their metrics
(``PROMETHEUS_MULTIPROC_DIR``), so that ``/metrics`` reports the whole service whichever worker answers.
"""

from __future__ import annotations

import argparse
import ctypes
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from pathlib import Path
from types import FrameType

import uvicorn
from prometheus_client.multiprocess import mark_process_dead
from uvicorn.config import STARTUP_FAILURE

PR_SET_PDEATHSIG = 1  # prctl(2)
RESTART_PAUSE = 1.0  # seconds before a dead worker is started again (a crash loop must not spin a core)


@dataclass(frozen=True)
class Options:
    app: str
    host: str
    port: int
    workers: int
    graceful_seconds: int | None


def listening_socket(host: str, port: int, *, share: bool) -> socket.socket:
    """A bound, listening TCP socket; ``share`` adds SO_REUSEPORT, so that each worker binds one of its own."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said, not 0: asyncio turns Nagle off (TCP_NODELAY) only on connections of a socket that says so,
    # and with Nagle on every small answer waited for the client's delayed ACK (a third fewer requests a second).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    return sock


def _listening_or_none(options: Options, *, share: bool) -> socket.socket | None:
    """The socket, or None with the reason said (the caller ends with exit code 3: a failed start)."""
    try:
        return listening_socket(options.host, options.port, share=share)
    except OSError as exc:
        print(f"cannot listen on {options.host}:{options.port}: {exc}", file=sys.stderr, flush=True)
        return None


def serve(options: Options, *, share: bool) -> None:
    """One uvicorn server in this process, on its own socket (exit code 3 when the port cannot be had)."""
    sock = _listening_or_none(options, share=share)
    if sock is None:
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(
        options.app,
        factory=True,
        host=options.host,
        port=options.port,
        access_log=False,  # the service writes its own access lines, masked
        timeout_graceful_shutdown=options.graceful_seconds,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _end_with_parent(parent: int) -> None:
    """Linux: SIGTERM to this worker when the supervisor dies, however it dies (killed with SIGKILL, out of
    memory): a worker left behind would keep answering on the port with no one to stop it."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above
        sys.exit(0)


def _worker(options: Options, parent: int) -> None:
    _end_with_parent(parent)
    serve(options, share=True)


class Supervisor:
    """``workers`` processes of ``serve``; a dead one started again, a failed start ends them all."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[SpawnProcess] = []
        self.stopping = False
        self.exit_code = 0

    def _start(self) -> SpawnProcess:
        process = self.context.Process(target=_worker, args=(self.options, os.getpid()), name="fupin-worker")
        process.start()
        return process

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        folder = Path(tempfile.mkdtemp(prefix="fupin-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # the workers' figures, summed by whichever answers
        try:
            return self._run()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _run(self) -> int:
        # The port must be ours alone: another server (another stack) holding it makes every bind here fail,
        # but two supervisors both sharing it would split its traffic without a word.
        probe = _listening_or_none(self.options, share=False)
        if probe is None:
            return STARTUP_FAILURE
        probe.close()
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.processes = [self._start() for _ in range(self.options.workers)]
        while not self.stopping:
            time.sleep(0.2)
            self._keep_alive()
        self._terminate()
        return self.exit_code

    def _keep_alive(self) -> None:
        for index, process in enumerate(self.processes):
            if self.stopping or process.is_alive():
                continue
            process.join()
            if process.pid is not None:
                mark_process_dead(process.pid)  # its gauges go; its counts stay in the sums
            if process.exitcode == STARTUP_FAILURE:
                print("a worker failed to start; stopping", file=sys.stderr, flush=True)
                self.stopping, self.exit_code = True, STARTUP_FAILURE
                return
            print(f"worker {process.pid} exited with {process.exitcode}; starting another", file=sys.stderr)
            time.sleep(RESTART_PAUSE)
            self.processes[index] = self._start()

    def _terminate(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + (self.options.graceful_seconds or 30) + 5
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def parse(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(prog="python -m shared.serve", description=__doc__.splitlines()[0])
    p.add_argument("app", help="the app factory, module:function (services.registry.main:create_app)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="worker processes (about one per core)")
    p.add_argument("--app-dir", default="", help="a folder put first on sys.path before the app is imported")
    p.add_argument("--timeout-graceful-shutdown", type=int, default=None, dest="graceful_seconds")
    args = p.parse_args(argv)
    if args.workers < 1:
        p.error("--workers must be at least 1")
    if args.app_dir:
        sys.path.insert(0, args.app_dir)  # spawned workers get the parent's sys.path
    return Options(args.app, args.host, args.port, args.workers, args.graceful_seconds)


def main(argv: list[str] | None = None) -> int:
    options = parse(sys.argv[1:] if argv is None else argv)
    if options.workers == 1:
        serve(options, share=False)
        return 0
    return Supervisor(options).run()


if __name__ == "__main__":
    sys.exit(main())
