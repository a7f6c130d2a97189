"""Policy rule sets per jurisdiction and year, stored as data."""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.funds.domain.policy import RuleSetBody, RuleSetScope, pick_rule_set
from services.funds.models import RuleSet
from shared.auth import Principal
from shared.clock import session_clock
from shared.scope import require_region


def rules_for(session: Session, *, region_code: str, year: int) -> RuleSetBody:
    """The rules in force for a region and year: the narrowest jurisdiction's, else the national defaults."""
    prefixes = [region_code[:n] for n in (2, 4, 6, 9, 12)]
    rows = session.exec(select(RuleSet).where(RuleSet.year == year, col(RuleSet.region_prefix).in_(prefixes))).all()
    scopes = [RuleSetScope(r.region_prefix, r.year, RuleSetBody.model_validate(r.body)) for r in rows]
    return pick_rule_set(scopes, region_code=region_code, year=year)


def put_rules(session: Session, *, region_prefix: str, year: int, body: RuleSetBody, principal: Principal) -> RuleSet:
    require_region(principal, region_prefix, field="region_prefix")
    row = session.exec(select(RuleSet).where(RuleSet.region_prefix == region_prefix, RuleSet.year == year)).first()
    row = row or RuleSet(region_prefix=region_prefix, year=year, body={}, updated_by="")
    row.body = body.model_dump(mode="json")
    row.updated_by = principal.subject
    row.updated_at = session_clock(session).now()
    session.add(row)
    session.flush()
    return row
