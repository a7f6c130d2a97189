"""``fupin token``: a bearer token for a role and region, signed with the running stack's key."""

from __future__ import annotations

from typing import Annotated

import typer

from shared.auth import Role, issue_token
from shared.settings import stack_settings


def token(
    role: Annotated[list[Role], typer.Option(help="role(s) the token carries")],
    region: Annotated[str, typer.Option(help="region-code prefix the token may act in, e.g. 522323")] = "",
    subject: Annotated[str, typer.Option(help="who the token speaks for")] = "operator",
    ttl: Annotated[int, typer.Option(help="seconds until it expires")] = 8 * 3600,
) -> None:
    """Print a token: ``fupin token --role county_office --region 522323``."""
    typer.echo(issue_token(stack_settings(), subject=subject, roles=[r.value for r in role], region=region, ttl=ttl))
