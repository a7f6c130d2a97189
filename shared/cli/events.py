"""``fupin events``: the catalogue, outbox replay, dead letters."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shared.cli.services import SERVICES
from shared.clock import SHANGHAI
from shared.db import Database
from shared.events.bus import connect, ensure_streams
from shared.events.catalogue import asyncapi
from shared.events.dead_letters import list_dead_letters, replay_dead_letters
from shared.events.outbox import mark_for_replay
from shared.settings import stack_settings

app = typer.Typer(help="Domain events: catalogue, replay, dead letters.", no_args_is_help=True)
dead = typer.Typer(help="Events a consumer gave up on.", no_args_is_help=True)
app.add_typer(dead, name="dead-letters")


@app.command("catalogue")
def catalogue() -> None:
    """Print the event catalogue as an AsyncAPI document (JSON)."""
    typer.echo(json.dumps(asyncapi(), ensure_ascii=False, indent=2))


@app.command("replay")
def replay(
    since: Annotated[datetime, typer.Option(help="republish events recorded at or after this time")],
    service: Annotated[list[str] | None, typer.Option(help="only these services' outboxes")] = None,
) -> None:
    """Republish sent outbox events (after a broker lost data); consumers' inboxes drop repeats."""
    settings = stack_settings()
    since = since if since.tzinfo else since.replace(tzinfo=SHANGHAI)
    for name in service or SERVICES:
        db = Database(settings.database_url(name), service=name)
        with db.transaction() as session:
            count = mark_for_replay(session, since)
        db.dispose()
        typer.echo(f"{name}: {count} events queued for republishing")


async def _with_js(action):
    settings = stack_settings()
    nc = await connect(settings, name="fupin-cli")
    try:
        js = nc.jetstream()
        await ensure_streams(js, settings)
        return await action(js, settings)
    finally:
        await nc.close()


@dead.command("list")
def list_letters(consumer: Annotated[str | None, typer.Option(help="only this consumer's")] = None) -> None:
    """Show dead letters: consumer, event, attempts and the error."""
    letters = asyncio.run(_with_js(lambda js, s: list_dead_letters(js, s.dlq_stream_name, consumer)))
    table = Table("seq", "consumer", "event type", "event id", "attempts", "error")
    for letter in letters:
        table.add_row(
            str(letter.seq),
            letter.consumer,
            letter.event_type,
            letter.event_id,
            str(letter.attempts),
            letter.error.strip().splitlines()[-1][:80] if letter.error else "",
        )
    Console().print(table)


@dead.command("replay")
def replay_letters(consumer: Annotated[str | None, typer.Option(help="only this consumer's")] = None) -> None:
    """Send dead letters back to the consumer that failed on them."""
    count = asyncio.run(_with_js(lambda js, s: replay_dead_letters(js, s.dlq_stream_name, consumer, s.subject_prefix)))
    typer.echo(f"{count} dead letters replayed")
