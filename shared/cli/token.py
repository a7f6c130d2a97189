"""``fupin token``: a bearer token for a role and region, signed with the running stack's key."""

from __future__ import annotations

from typing import Annotated

import typer

from shared.auth import REGION_LENGTHS, Role, issue_token
from shared.ids import new_id
from shared.settings import stack_settings


def token(
    role: Annotated[list[Role], typer.Option(help="role(s) the token carries")],
    region: Annotated[str, typer.Option(help="region-code prefix the token may act in, e.g. 522323")] = "",
    subject: Annotated[
        str, typer.Option(help="who the token speaks for (default: a new name each time, so tokens never share keys)")
    ] = "",
    ttl: Annotated[int, typer.Option(help="seconds until it expires")] = 8 * 3600,
) -> None:
    """Print a token: ``fupin token --role county_office --region 522323``."""
    settings = stack_settings()
    roles = [r.value for r in role]
    if not region and Role.system not in role:
        raise typer.BadParameter("every role but system needs --region (a division code such as 522323)")
    if region and not (region.isdigit() and len(region) in REGION_LENGTHS):
        raise typer.BadParameter("--region must be a division code of 2, 4, 6, 9 or 12 digits")
    if ttl > settings.jwt_max_ttl_seconds:
        raise typer.BadParameter(f"--ttl may be at most {settings.jwt_max_ttl_seconds} seconds")
    who = subject or f"cli-{new_id()}"
    typer.echo(issue_token(settings, subject=who, roles=roles, region=region, ttl=ttl))
