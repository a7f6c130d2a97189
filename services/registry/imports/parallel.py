"""Reading a large import file in a second process, while the job checks and writes what it has read.

Reading and checking rows (``template.RowReader``, ~10 µs a row) is about half of what an import costs; it
needs nothing from the database, so for a large file (``reading.PARALLEL_FROM`` rows or more) a parser
process does it: it opens the file, reads each row, groups the rows into chunks of households as
``reading.chunk`` does, and sends each chunk to the job over a pipe, pickled (~1.4 µs a row to pickle, as
much to unpickle). The job's own thread only unpickles, looks up, plans and writes.

- Memory stays flat: a chunk is sent whole before the next is read, and the pipe holds one message at a
  time, so the parser is at most one chunk ahead (the one it reads while the job lands the one before).
- The process comes from the ``forkserver`` context (never a plain fork of the threaded service); the
  fork server is started once per service process, with this module (and the template) imported, so a
  parser starts in milliseconds. If it cannot start, the job reads the file in line.
- The parser's errors are the job's: ``MissingColumns`` or ``UnreadableFile`` raised in the parser is
  raised again in the job, with its message. A parser that dies (killed, out of memory) closes its end
  of the pipe: the job fails with ``ParserStopped``, never waits. The job always stops and joins it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import pickle
import sys
import threading
import types
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

from services.registry.imports.reading import Households, Reading, chunk
from shared.files.tabular import open_table
from shared.metrics import peak_rss_mb, rss_mb

log = logging.getLogger(__name__)
CHUNK, FAILED, DONE = b"C", b"E", b"D"  # the first byte of each message
JOIN_SECONDS = 5.0
# The last parser to finish: its RSS when it started and its peak, in MB (for the benchmark's memory probe).
last_parser_rss_mb: tuple[float, float] | None = None


class ParserStopped(RuntimeError):
    """The parser process ended before the end of the file (killed, or out of memory)."""


def _parse(conn: Connection, path: str, reading: Reading, size: int, first: int) -> None:
    """The parser process: the file's chunks, each with the household columns filled so far, then DONE."""
    base = rss_mb()
    try:
        try:
            table = open_table(Path(path), strip=False)
            reader = reading.reader(table.headers)
            for households, last in chunk(table.rows, reader.read, size, first=first):
                conn.send_bytes(CHUNK + pickle.dumps((households, last, reader.filled), pickle.HIGHEST_PROTOCOL))
        except Exception as exc:
            conn.send_bytes(FAILED + _pickled(exc))
            return
        peak = peak_rss_mb()
        conn.send_bytes(DONE + pickle.dumps((base, peak)))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the job has gone (failed, or its service stopped): nobody to tell
    finally:
        conn.close()


def _pickled(exc: Exception) -> bytes:
    """The error as the job will raise it: itself if it survives pickling, else its message."""
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
    except Exception:
        data = pickle.dumps(RuntimeError(str(exc)))
    return data


_STARTING = threading.Lock()


@contextlib.contextmanager
def _without_main() -> Iterator[None]:
    """While a parser starts, ``__main__`` is a blank module, so that multiprocessing does not have the new
    process run the service's (or the benchmark's) main script again: the parser needs only this module,
    which the fork server has imported. (Preloading "__main__" in the fork server instead made every parser a
    fork of the whole application: 107 MB at its start and a slower import, 0.42 of raw against 0.57.)"""
    with _STARTING:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


class Parser:
    """A parser process for one file, and the job's end of its pipe. Iterate for the chunks; ``close``
    stops the process (if it still runs) and joins it."""

    def __init__(self, path: Path, reading: Reading, *, size: int, first: int, filled: set[int]) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])  # before the fork server's first start; ignored after
        self.filled = filled
        self.finished = False
        self.conn, child_end = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_parse,
            args=(child_end, str(path), reading, size, first),
            name="import-parser",
            daemon=True,
        )
        try:
            with _without_main():
                self.process.start()
        except BaseException:
            self.conn.close()
            raise
        finally:
            child_end.close()  # the parser holds the only writing end: its death is the job's EOF

    def __iter__(self) -> Iterator[tuple[Households, bool]]:
        global last_parser_rss_mb
        while True:
            try:
                data = self.conn.recv_bytes()
            except (EOFError, OSError):  # OSError: it died part-way through a message
                raise ParserStopped(self._stopped()) from None
            kind, body = data[:1], memoryview(data)[1:]
            if kind == CHUNK:
                households, last, filled = pickle.loads(body)
                del data, body
                self.filled |= filled
                yield households, last
            elif kind == FAILED:
                raise pickle.loads(body)
            else:
                last_parser_rss_mb = pickle.loads(body)
                self.finished = True
                return

    def _stopped(self) -> str:
        self.process.join(JOIN_SECONDS)
        code = self.process.exitcode
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"ended (exit code {code})"
        return (
            f"the process reading the file {how} before the end of the file; rows imported before that stay. "
            "Import the file again: households already there are left as they are."
        )

    def close(self) -> None:
        """Stop the parser if it still runs (the job failed or ended early) and wait for it."""
        self.conn.close()  # a parser blocked on sending gets a broken pipe
        process = self.process
        process.join(JOIN_SECONDS if self.finished else 0.5)
        if process.exitcode is None:
            process.terminate()
            process.join(JOIN_SECONDS)
        if process.exitcode is None:
            process.kill()
            process.join()
        process.close()
