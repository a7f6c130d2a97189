"""``fupin import households FILE`` and ``fupin regions load FILE``: the registry's bulk paths over its API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shared.auth import issue_token
from shared.settings import stack_settings

import_app = typer.Typer(help="Bulk imports into the registry.", no_args_is_help=True)
regions_app = typer.Typer(help="The region tree (区划).", no_args_is_help=True)
console = Console()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

UrlOption = Annotated[
    str | None, typer.Option("--url", envvar="FUPIN_REGISTRY_URL", help="registry base URL (default: local stack)")
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="FUPIN_TOKEN", help="bearer token; default: a system token signed locally"),
]


def install(app: typer.Typer) -> None:
    """Register these commands on the ``fupin`` app."""
    app.add_typer(import_app, name="import")
    app.add_typer(regions_app, name="regions")


def _client(url: str | None, token: str | None) -> httpx.Client:
    settings = stack_settings()
    base = url or f"http://127.0.0.1:{settings.service_port('registry')}"
    bearer = token or issue_token(settings, subject="fupin-cli", roles=["system"], region="", ttl=3600)
    return httpx.Client(
        base_url=f"{base.rstrip('/')}/api/v1", headers={"Authorization": f"Bearer {bearer}"}, timeout=60
    )


def _upload(client: httpx.Client, route: str, path: Path) -> httpx.Response:
    mime = "text/csv" if path.suffix.lower() == ".csv" else XLSX
    with path.open("rb") as fh:
        response = client.post(route, files={"file": (path.name, fh, mime)})
    if response.status_code >= 400:
        console.print(f"[red]{response.status_code}[/red] {response.json().get('detail', response.text)}")
        raise typer.Exit(1)
    return response


@import_app.command("households")
def import_households(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX in the import template")],
    url: UrlOption = None,
    token: TokenOption = None,
    show_errors: Annotated[int, typer.Option(help="how many bad rows to print at the end")] = 20,
) -> None:
    """Import households and members from FILE, following the job with a progress bar."""
    with _client(url, token) as client:
        job = _upload(client, "/imports", file).json()
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"importing {file.name}", total=job["rows_total"])
            while job["status"] in ("queued", "running"):
                time.sleep(0.5)
                job = client.get(f"/imports/{job['id']}").json()
                progress.update(
                    task,
                    total=job["rows_total"],
                    completed=job["rows_done"],
                    description=f"importing {file.name} · {job['error_count']} bad rows",
                )
        _report(client, job, show_errors)


def _report(client: httpx.Client, job: dict, limit: int) -> None:  # type: ignore[type-arg]
    if job["status"] == "failed":
        console.print(f"[red]import failed:[/red] {job['message']}")
        raise typer.Exit(1)
    console.print(
        f"households created {job['households_created']}, members created {job['members_created']}, "
        f"rows already there {job['rows_unchanged']}, bad rows {job['error_count']}"
    )
    if job["error_count"] and limit:
        errors = client.get(f"/imports/{job['id']}/errors", params={"limit": limit}).json()["items"]
        for e in errors:
            console.print(f"  row {e['row']} [bold]{e['column']}[/bold]: {e['reason']}")
        console.print(f"all bad rows: GET /api/v1/imports/{job['id']}/errors")
        raise typer.Exit(2)


@regions_app.command("load")
def load_regions(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX with code/代码 and name/名称")],
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Load regions from FILE (one level or several; short or 12-digit codes); loading twice changes nothing."""
    with _client(url, token) as client:
        result = _upload(client, "/regions/import", file).json()
    console.print(f"regions created {result['created']}, renamed {result['updated']}")
