"""The region tree (区划): loading it from an operator's file or the demo county, reading it, villager groups."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from services.registry.domain.regions import Level, RegionCode, parse_region_code
from services.registry.models import Region, VillagerGroup
from shared.errors import NotFound, ValidationFailed
from shared.files.tabular import open_table
from shared.pagination import PageParams, paginate

DEMO_COUNTY = Path(__file__).parent.parent / "data" / "regions_522323.csv"
CODE_HEADERS = ("code", "代码", "区划代码", "统计用区划代码")
NAME_HEADERS = ("name", "名称", "区划名称")
BATCH = 2000


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int


def read_region_file(path: Path) -> Iterator[tuple[RegionCode, str]]:
    """Every (code, name) of a region file with a code and a name column; ValidationFailed names the row."""
    table = open_table(path)
    code_at = _column(table.headers, CODE_HEADERS)
    name_at = _column(table.headers, NAME_HEADERS)
    for number, cells in table.rows:
        try:
            code = parse_region_code(cells[code_at] if code_at < len(cells) else "")
        except ValueError as exc:
            raise ValidationFailed(f"row {number}: {exc}", field=f"row {number}.code") from exc
        name = cells[name_at] if name_at < len(cells) else ""
        if not name:
            raise ValidationFailed(f"row {number}: the region has no name", field=f"row {number}.name")
        yield code, name


def _column(headers: list[str], names: tuple[str, ...]) -> int:
    for i, header in enumerate(headers):
        if header.strip().lower() in names:
            return i
    raise ValidationFailed(f"the file has no column {' / '.join(names)}", field="file")


def load_regions(session: Session, regions: Iterable[tuple[RegionCode, str]]) -> LoadResult:
    """Insert new regions and rename known ones, in batches; loading the same file twice changes nothing."""
    created = updated = 0
    batch: list[tuple[RegionCode, str]] = []
    for item in regions:
        batch.append(item)
        if len(batch) >= BATCH:
            c, u = _load_batch(session, batch)
            created, updated, batch = created + c, updated + u, []
    if batch:
        c, u = _load_batch(session, batch)
        created, updated = created + c, updated + u
    return LoadResult(created=created, updated=updated)


def _load_batch(session: Session, batch: list[tuple[RegionCode, str]]) -> tuple[int, int]:
    codes = [code.code for code, _ in batch]
    known = {r.code: r for r in session.exec(select(Region).where(col(Region.code).in_(codes))).all()}
    created = updated = 0
    for code, name in batch:
        row = known.get(code.code)
        if row is None:
            row = Region(code=code.code, name=name, level=code.level.value, parent_code=code.parent_code)
            known[code.code] = row
            session.add(row)
            created += 1
        elif row.name != name:
            row.name = name
            updated += 1
    session.flush()
    return created, updated


def get_region(session: Session, code: str) -> Region:
    region = session.get(Region, code.ljust(12, "0") if code.isdigit() else code)
    if region is None:
        raise NotFound(f"region {code} not found")
    return region


def children(session: Session, parent_code: str | None, page: PageParams) -> tuple[list[Region], str | None]:
    """The regions directly under ``parent_code`` (the provinces when None), by code, a page at a time."""
    query = select(Region).where(
        Region.parent_code == parent_code if parent_code else col(Region.parent_code).is_(None)
    )
    return paginate(session, query, order=[col(Region.code)], page=page)


def ancestors(session: Session, region: Region) -> list[Region]:
    """The chain from the province down to ``region``'s parent."""
    chain: list[Region] = []
    code = region.parent_code
    while code:
        parent = session.get(Region, code)
        if parent is None:
            break
        chain.append(parent)
        code = parent.parent_code
    return list(reversed(chain))


def require_village(session: Session, code: str, *, field: str = "region_code") -> Region:
    """A household lives in a known village (12-digit code, level village); the region, for a caller that uses it."""
    region = session.get(Region, code)
    refuse_unless_village(code, region.level if region else None, field=field)
    assert region is not None
    return region


def refuse_unless_village(code: str, level: str | None, *, field: str) -> None:
    if level is None:
        raise ValidationFailed(f"region {code} is not in the region tree; load it first", field=field)
    if level != Level.village.value:
        raise ValidationFailed(f"region {code} is a {level}, not a village", field=field)


def set_group(session: Session, village_code: str, number: int, name: str) -> VillagerGroup:
    """Name a villager group (村民小组) under a village."""
    require_village(session, village_code, field="village_code")
    group = session.get(VillagerGroup, (village_code, number)) or VillagerGroup(
        village_code=village_code, number=number, name=name
    )
    group.name = name
    session.add(group)
    session.flush()
    return group


def groups(session: Session, village_code: str, page: PageParams) -> tuple[list[VillagerGroup], str | None]:
    """A village's villager groups by number, a page at a time; a code the tree does not know is a 404."""
    region = get_region(session, village_code)
    query = select(VillagerGroup).where(VillagerGroup.village_code == region.code)
    return paginate(session, query, order=[col(VillagerGroup.number)], page=page)
