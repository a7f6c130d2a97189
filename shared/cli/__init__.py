"""The ``fupin`` command line: run the stack, run the tests, tokens, events, migrations."""

from __future__ import annotations

import typer

from shared.cli import db, events, jobs, stack, token
from shared.cli.services import SERVICES, service_cli

app = typer.Typer(help="Fupin (扶贫): targeted poverty alleviation for a county office.", no_args_is_help=True)
app.command("up")(stack.up)
app.command("test", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(stack.test)
app.command("token")(token.token)
app.add_typer(events.app, name="events")
app.add_typer(db.app, name="db")
app.add_typer(jobs.app, name="jobs")
for _name in SERVICES:
    _module = service_cli(_name)
    if _module is not None and hasattr(_module, "install"):
        _module.install(app)


def main() -> None:
    app()
