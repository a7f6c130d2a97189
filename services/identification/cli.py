"""Identification's commands: ``fupin compare load KIND FILE`` (a department file for the county data
comparison), ``fupin compare run REGION`` and ``fupin compare status BATCH``, over the service's API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO, Annotated, Any, cast

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from shared.auth import issue_token
from shared.settings import StackSettings, stack_settings

compare_app = typer.Typer(help="County data comparison (大数据比对).", no_args_is_help=True)
console = Console()
UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="FUPIN_IDENTIFICATION_URL", help="identification base URL (default: local stack)"),
]
TokenOption = Annotated[
    str | None, typer.Option("--token", envvar="FUPIN_TOKEN", help="bearer token; default: a local system token")
]
MIME = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def install(app: typer.Typer) -> None:
    """Register these commands on the ``fupin`` app."""
    app.add_typer(compare_app, name="compare")


def client(url: str | None = None, token: str | None = None, settings: StackSettings | None = None) -> httpx.Client:
    settings = settings or stack_settings()
    base = url or f"http://127.0.0.1:{settings.service_port('identification')}"
    bearer = token or issue_token(settings, subject="fupin-cli", roles=["system"], region="", ttl=3600)
    return httpx.Client(
        base_url=f"{base.rstrip('/')}/api/v1", headers={"Authorization": f"Bearer {bearer}"}, timeout=600
    )


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            body = response.json()
            detail = body.get("detail", "") + "".join(
                f"\n  {e['field']}: {e['message']}" for e in body.get("errors", [])
            )
        except ValueError:
            detail = response.text
        console.print(f"[red]{response.status_code} {detail}[/red]")
        raise typer.Exit(1)
    return response.json()


class _Reading:
    """A file object that advances a progress bar as httpx reads it."""

    def __init__(self, path: Path, progress: Progress, task: Any) -> None:
        self.fh = path.open("rb")
        self.progress, self.task = progress, task

    def read(self, size: int = -1) -> bytes:
        chunk = self.fh.read(size)
        self.progress.advance(self.task, len(chunk))
        return chunk

    def close(self) -> None:
        self.fh.close()


@compare_app.command("load")
def load(
    kind: Annotated[str, typer.Argument(help="the dataset kind's code, e.g. vehicles")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV, XLSX or Parquet")],
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Upload FILE as the next version of KIND's department file (the same bytes again change nothing)."""
    mime = MIME.get(file.suffix.lower(), XLSX)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn())
    with client(url, token) as api, Progress(*columns, console=console) as progress:
        task = progress.add_task(f"uploading {file.name}", total=file.stat().st_size)
        reading = _Reading(file, progress, task)
        # httpx only calls .read() on a file object, but its parameter type names the whole IO[bytes].
        upload = cast(IO[bytes], reading)
        try:
            answer = _answer(api.post(f"/datasets/{kind}/files", files={"file": (file.name, upload, mime)}))
        finally:
            reading.close()
    if answer.get("unchanged"):
        console.print(f"{kind}: these bytes are version {answer['version']} already; nothing changed")
    else:
        console.print(f"{kind} v{answer['version']}: {answer['rows']} rows, {answer['bad_rows']} with an invalid ID")
    if answer["bad_rows"]:
        console.print(f"rows with an invalid ID: GET /api/v1/datasets/{kind}/files/{answer['id']}/rejects")


def _follow(api: httpx.Client, batch: dict[str, Any]) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"batch {batch['id']}", total=100)
        while True:
            progress.update(
                task, completed=batch["progress"], description=f"{batch['phase']} · {batch['members']} members"
            )
            if batch["status"] not in ("queued", "running"):
                return batch
            time.sleep(0.5)
            batch = _answer(api.get(f"/comparisons/{batch['id']}"))


def _report(batch: dict[str, Any]) -> None:
    if batch["status"] == "failed":
        console.print(f"[red]failed: {batch['message']}[/red]")
        raise typer.Exit(1)
    console.print(
        f"{batch['members']} members, {batch['findings']} findings ({batch['new_findings']} new), "
        f"{batch['households_flagged']} households flagged, {batch['cases_sent_back']} cases sent back"
    )


@compare_app.command("run")
def run(
    region: Annotated[str, typer.Argument(help="township (9 digits), county (6) or wider")],
    year: Annotated[int | None, typer.Option(help="the rule set's year (default: this year)")] = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Start a comparison batch over REGION and follow it with a progress bar."""
    with client(url, token) as api:
        body = {"region_code": region} | ({"year": year} if year else {})
        _report(_follow(api, _answer(api.post("/comparisons", json=body))))


@compare_app.command("status")
def status(batch_id: str, url: UrlOption = None, token: TokenOption = None) -> None:
    """Show a batch's progress until it ends."""
    with client(url, token) as api:
        _report(_follow(api, _answer(api.get(f"/comparisons/{batch_id}"))))
