"""``fupin jobs list SERVICE`` and ``fupin jobs run SERVICE JOB --day D``: periodic jobs over a service's API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import httpx
import typer

from shared.auth import issue_token
from shared.settings import stack_settings

app = typer.Typer(help="Periodic jobs (nightly accrual, duty reminders, notice periods).", no_args_is_help=True)
Service = Annotated[str, typer.Argument(help="registry, identification, funds, loans or notifications")]


def _client(service: str) -> httpx.Client:
    settings = stack_settings()
    token = issue_token(settings, subject="fupin-cli-jobs", roles=["system"], region="", ttl=600)
    return httpx.Client(
        base_url=f"{settings.service_url(service)}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=600
    )


def _check(response: httpx.Response) -> dict | list:
    if response.status_code >= 400:
        typer.echo(f"{response.status_code}: {response.json().get('detail', response.text)}", err=True)
        raise typer.Exit(1)
    return response.json()


@app.command("list")
def list_jobs(service: Service) -> None:
    """The service's periodic jobs and when each is due."""
    with _client(service) as client:
        for job in _check(client.get("/jobs")):
            every = f"every {job['every_seconds']} s" if job["every_seconds"] else f"daily from {job['at']}"
            typer.echo(f"{job['name']}\t{every}\t{job['description']}")


@app.command("run")
def run_job(
    service: Service,
    job: Annotated[str, typer.Argument(help="the job's name (fupin jobs list SERVICE)")],
    day: Annotated[str, typer.Option("--day", help="the business day to run it for, YYYY-MM-DD")] = "",
) -> None:
    """Run a job again for a day (today by default); what it already did for that day is not done twice."""
    when = day or date.today().isoformat()
    with _client(service) as client:
        result = _check(client.post(f"/jobs/{job}/runs", json={"day": when}))
    typer.echo(f"{service} {job} ran for {result['day']}")  # type: ignore[call-overload]
