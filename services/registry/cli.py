"""The registry's commands: ``fupin import households FILE`` and ``fupin regions load FILE`` (the bulk paths
over its API), and the demo data ``fupin up --demo`` imports. Every service may have a ``cli.py`` like this one,
with ``install(app)`` adding its commands and, optionally, ``demo(...)``; the ``fupin`` command finds them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shared.auth import issue_token
from shared.files.mime import XLSX
from shared.settings import StackSettings, stack_settings

import_app = typer.Typer(help="Bulk imports into the registry.", no_args_is_help=True)
regions_app = typer.Typer(help="The region tree (区划).", no_args_is_help=True)
console = Console()

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


class RegistryRefused(Exception):
    """The registry refused an upload, or the import job failed; the message says why."""


def registry_client(
    url: str | None = None, token: str | None = None, settings: StackSettings | None = None
) -> httpx.Client:
    """A client for the registry's API: ``url`` or the local stack's, ``token`` or a short-lived ``system``
    token signed with the stack's key (``settings``, else the environment's)."""
    settings = settings or stack_settings()
    base = url or f"http://127.0.0.1:{settings.service_port('registry')}"
    bearer = token or issue_token(settings, subject="fupin-cli", roles=["system"], region="", ttl=3600)
    return httpx.Client(
        base_url=f"{base.rstrip('/')}/api/v1", headers={"Authorization": f"Bearer {bearer}"}, timeout=60
    )


def _upload(client: httpx.Client, route: str, path: Path) -> dict[str, Any]:
    mime = "text/csv" if path.suffix.lower() == ".csv" else XLSX
    with path.open("rb") as fh:
        response = client.post(route, files={"file": (path.name, fh, mime)})
    if response.status_code >= 400:
        problem = response.headers.get("content-type", "").endswith("json")
        raise RegistryRefused(f"{response.status_code} {response.json().get('detail') if problem else response.text}")
    return response.json()


def import_file(
    client: httpx.Client, path: Path, on_progress: Callable[[dict[str, Any]], None] = lambda job: None
) -> dict[str, Any]:
    """POST ``path`` to ``/imports`` and follow the job until it ends (``on_progress`` sees each state);
    the finished job. RegistryRefused if the upload is refused or the job fails."""
    job = _upload(client, "/imports", path)
    on_progress(job)
    while job["status"] in ("queued", "running"):
        time.sleep(0.5)
        job = client.get(f"/imports/{job['id']}").json()
        on_progress(job)
    if job["status"] == "failed":
        raise RegistryRefused(f"import failed: {job['message']}")
    return job


def summary(job: dict[str, Any]) -> str:
    """One line on a finished import job."""
    return (
        f"households created {job['households_created']}, members created {job['members_created']}, "
        f"rows already there {job['rows_unchanged']}, bad rows {job['error_count']}"
    )


@contextmanager
def _exit_when_refused() -> Iterator[None]:
    try:
        yield
    except RegistryRefused as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


@import_app.command("households")
def import_households(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX in the import template")],
    url: UrlOption = None,
    token: TokenOption = None,
    show_errors: Annotated[int, typer.Option(help="how many bad rows to print at the end")] = 20,
) -> None:
    """Import households and members from FILE, following the job with a progress bar."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with registry_client(url, token) as client, _exit_when_refused():
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"importing {file.name}", total=None)

            def show(job: dict[str, Any]) -> None:
                description = f"importing {file.name} · {job['error_count']} bad rows"
                progress.update(task, total=job["rows_total"], completed=job["rows_done"], description=description)

            job = import_file(client, file, show)
        _report(client, job, show_errors)


def _report(client: httpx.Client, job: dict[str, Any], limit: int) -> None:
    console.print(summary(job))
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
    with registry_client(url, token) as client, _exit_when_refused():
        result = _upload(client, "/regions/import", file)
    console.print(f"regions created {result['created']}, renamed {result['updated']}")


class _Stopped(Exception):
    """Ctrl-C came while the demo data was importing."""


def demo(settings: StackSettings, data_dir: Path, households: int, stopping: Callable[[], bool]) -> None:
    """Write the demo households (演示数据) into the data folder and import them through the registry's API, as
    ``fupin import households`` does. The same seed makes the same file, so importing it again finds every row
    already there. A failure is reported; the stack keeps running."""
    from services.registry import demo as households_demo  # the generator, only when asked for

    path = data_dir / "demo-households.csv"

    def interrupt(_job: dict[str, Any]) -> None:
        if stopping():
            raise _Stopped

    try:
        households_demo.generate(path, households)
        with registry_client(settings=settings) as client:
            job = import_file(client, path, interrupt)
    except _Stopped:
        return
    except (RegistryRefused, httpx.HTTPError, OSError) as exc:
        typer.echo(f"demo data not imported: {exc}", err=True)
        return
    errors = f" (see GET /api/v1/imports/{job['id']}/errors)" if job["error_count"] else ""
    typer.echo(f"demo data ({households} households, {path.name}): {summary(job)}{errors}")
