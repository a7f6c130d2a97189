"""Settings from the environment: ``FUPIN_*`` for the stack, ``FUPIN_<SERVICE>_*`` for one service."""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_PORTS: dict[str, int] = {
    "registry": 8001,
    "identification": 8002,
    "funds": 8003,
    "loans": 8004,
    "notifications": 8005,
}
_FILE_SECRETS: dict[Path, str] = {}  # data-folder key files, by path
PLACEHOLDER_SECRETS = {"", "changeme", "secret", "dev"}
MIN_SECRET_LENGTH = 32


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only from the first byte (0600 in a 0700 folder), atomically: a
    second process racing to make the key either wins or reads the first one's."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    try:
        os.link(temporary, path)  # fails if another process made it first: theirs stands
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


class StackSettings(BaseSettings):
    """What every service and the CLI share."""

    model_config = SettingsConfigDict(env_prefix="FUPIN_", extra="ignore")

    environment: str = "development"
    data_dir: Path = Path("var")
    nats_url: str = "nats://127.0.0.1:4222"
    nats_port: int = 4222
    port_base: int = 8000
    postgres_url: str | None = Field(
        default=None, description="Server URL without a database name; each service gets its own database"
    )
    jwt_secret: str | None = None
    jwt_issuer: str = "fupin"
    jwt_ttl_seconds: int = 8 * 3600
    jwt_max_ttl_seconds: int = Field(default=30 * 86400, description="a token living longer than this is refused")
    subject_prefix: str = Field(
        default="fupin",
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="first token of every event subject: stacks sharing one broker each take their own, with their own"
        " stream names",
    )
    stream_name: str = Field(default="FUPIN", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    stream_replicas: int = Field(default=1, ge=1, le=5, description="3 on a JetStream cluster")
    dlq_stream_name: str = Field(default="FUPIN_DLQ", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    outbox_retention_days: int = 14
    relay_batch: int = 500
    relay_poll_seconds: float = 0.5
    consumer_max_attempts: int = 5
    consumer_ack_wait_seconds: float = 30.0
    consumer_backoff_seconds: float = 2.0
    consumer_backoff_max_seconds: float = 300.0
    log_level: str = "INFO"
    service_urls: dict[str, str] = Field(
        default_factory=dict, description='where to reach another service, e.g. {"registry": "http://registry:8001"}'
    )
    job_tick_seconds: float = 1.0
    max_body_bytes: int = Field(default=2 << 20, ge=1024, description="largest JSON request body (413 beyond)")
    max_upload_bytes: int = Field(default=256 << 20, ge=1024, description="largest uploaded file (413 beyond)")
    service_call_timeout_seconds: float = 5.0
    service_call_attempts: int = 3

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> StackSettings:
        secret = self.jwt_secret or ""
        if self.environment != "development" and (secret in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH):
            raise ValueError(
                f"FUPIN_JWT_SECRET must be a real secret of at least {MIN_SECRET_LENGTH} characters outside development"
            )
        return self

    def secret(self) -> str:
        """The JWT signing secret: from the environment, else from (or made in) the data folder."""
        if self.jwt_secret:
            return self.jwt_secret
        path = (self.data_dir / "secrets" / "jwt.key").resolve()
        if path not in _FILE_SECRETS:  # read once per process: every request checks a token with it
            if not path.exists():
                _write_private(path, secrets.token_urlsafe(48))
            _FILE_SECRETS[path] = path.read_text().strip()
        return _FILE_SECRETS[path]

    def service_port(self, service: str) -> int:
        return self.port_base + list(SERVICE_PORTS).index(service) + 1

    def service_url(self, service: str) -> str:
        """The base URL of another service: configured, else this machine at the service's port."""
        return self.service_urls.get(service) or f"http://127.0.0.1:{self.service_port(service)}"

    def database_url(self, service: str) -> str:
        """The URL of one service's database: its own setting, else PostgreSQL, else SQLite in the data folder."""
        own = ServiceSettings.for_service(service).database_url
        if own:
            return own
        if self.postgres_url:
            return f"{self.postgres_url.rstrip('/')}/fupin_{service}"
        if self.environment != "development":
            # An empty SQLite file made by mistake would look like a service with no data.
            raise ValueError(f"set FUPIN_{service.upper()}_DATABASE_URL or FUPIN_POSTGRES_URL outside development")
        return f"sqlite:///{(self.data_dir / f'{service}.db').resolve()}"


class ServiceSettings(BaseSettings):
    """One service's own settings, read with the prefix ``FUPIN_<SERVICE>_``."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str | None = None
    migrate_on_start: bool = True
    run_relay: bool = True
    run_consumers: bool = True
    run_jobs: bool = True

    @classmethod
    def for_service(cls, service: str) -> ServiceSettings:
        return cls(_env_prefix=f"FUPIN_{service.upper()}_")  # type: ignore[call-arg]


@cache
def stack_settings() -> StackSettings:
    return StackSettings()
