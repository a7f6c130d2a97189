"""The members a region's last batch read, kept as a Parquet file so the next batch asks the registry only for
the households changed since (``changed_since``), minus a safety overlap.

The file is the DuckDB table ``members`` as matched (active members, IDs normalised); table ``snapshotcache``
holds its path, the time it is complete up to and its row count, so a restarted service knows it. The first
batch of a region, a missing or unreadable file, a count that disagrees, or a batch asked with ``full`` reads
every member instead. A batch writes its own file (named after it) once its findings are committed, then points
the row at it only if no batch complete up to a later time did so meanwhile, and removes the file it replaced:
the row always names a whole file with its own count and watermark, a failed download or a killed batch leaves
the cache as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import duckdb

from services.identification.comparison import matching
from services.identification.models import SnapshotCache
from shared.db import Database

OVERLAP = timedelta(minutes=10)  # a write in flight when the last read started is read again; twice is harmless
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def held(region: str) -> Iterator[None]:
    """The region's cache to this batch alone in this process: a batch holds it from before its findings commit
    until its cache is saved, and the next batch of the region holds it while it reads the cache, so a batch asked
    for the moment the last one is done waits for that batch's members instead of reading everything again."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(region, threading.Lock())
    with lock:
        yield


class Loaded(NamedTuple):
    snapshot: str  # "full" or "delta"
    rows: int  # rows downloaded
    members: int  # members now in table ``members``
    watermark: datetime


def cache_file(folder: Path, region: str, batch_id: str) -> Path:
    return folder / "cache" / f"members-{region}-{batch_id}.parquet"


def kept(db: Database, region: str) -> SnapshotCache | None:
    with db.transaction() as session:
        found = session.get(SnapshotCache, region)
        if found is not None:
            session.expunge(found)
        return found


def usable(con: duckdb.DuckDBPyConnection, cache: SnapshotCache | None) -> bool:
    """Whether the kept file loads as table ``members`` with the rows it was saved with (else nothing loaded)."""
    if cache is None or not Path(cache.path).is_file():
        return False
    try:
        if matching.load_cached(con, Path(cache.path)) == cache.rows:
            return True
    except duckdb.Error:
        pass
    con.execute("DROP TABLE IF EXISTS members")
    return False


def save(
    db: Database, con: duckdb.DuckDBPyConnection, folder: Path, region: str, loaded: Loaded, batch_id: str
) -> bool:
    """Table ``members`` as the region's cache, complete up to ``loaded.watermark``: this batch's own file first,
    then the row pointing at it, unless the row already names a cache complete up to a later time (another batch
    of the region that ended meanwhile). The file replaced, or ours when it lost, is removed. Whether it is kept."""
    target = cache_file(folder, region, batch_id)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    matching.save_members(con, target)
    try:
        with db.transaction() as session:
            current = session.get(SnapshotCache, region, with_for_update=True)
            kept = current is None or current.watermark <= loaded.watermark
            replaced = current.path if current is not None and kept else None
            if kept:
                session.merge(
                    SnapshotCache(region_code=region, path=str(target), watermark=loaded.watermark, rows=loaded.members)
                )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if not kept:
        target.unlink(missing_ok=True)
    elif replaced is not None and replaced != str(target):
        Path(replaced).unlink(missing_ok=True)
    return kept


def since(cache: SnapshotCache) -> datetime:
    return cache.watermark - OVERLAP
