"""The members a region's last batch read, kept as a Parquet file so the next batch asks the registry only for
the households changed since (``changed_since``), minus a safety overlap.

The file is the DuckDB table ``members`` as matched (active members, IDs normalised); table ``snapshotcache``
holds its path, the time it is complete up to and its row count, so a restarted service knows it. The first
batch of a region, a missing or unreadable file, a count that disagrees, or a batch asked with ``full`` reads
every member instead. The file is replaced only once a batch has its merged members, by a rename: a failed
download leaves the cache as it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import duckdb

from services.identification.comparison import matching
from services.identification.models import SnapshotCache
from shared.db import Database

OVERLAP = timedelta(minutes=10)  # a write in flight when the last read started is read again; twice is harmless


class Loaded(NamedTuple):
    snapshot: str  # "full" or "delta"
    rows: int  # rows downloaded
    members: int  # members now in table ``members``
    watermark: datetime


def cache_file(folder: Path, region: str) -> Path:
    return folder / "cache" / f"members-{region}.parquet"


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


def save(db: Database, con: duckdb.DuckDBPyConnection, folder: Path, region: str, loaded: Loaded) -> None:
    """Table ``members`` as the region's cache, complete up to ``loaded.watermark``: the file first, then its row
    (a file newer than its row is only read a little again; never the other way round)."""
    target = cache_file(folder, region)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    matching.save_members(con, target)
    with db.transaction() as session:
        session.merge(
            SnapshotCache(region_code=region, path=str(target), watermark=loaded.watermark, rows=loaded.members)
        )


def since(cache: SnapshotCache) -> datetime:
    return cache.watermark - OVERLAP
