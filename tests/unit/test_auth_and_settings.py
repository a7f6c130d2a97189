"""Tokens carry roles and a region scope; settings refuse placeholder secrets outside development."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.auth import Principal, Role, decode_token, issue_token
from shared.errors import Forbidden, Unauthorized
from shared.settings import StackSettings

SETTINGS = StackSettings(jwt_secret="a-long-enough-test-secret-0123456789")


def test_token_round_trip() -> None:
    principal = decode_token(
        SETTINGS, issue_token(SETTINGS, subject="li", roles=["township_reviewer"], region="522323109")
    )
    assert principal == Principal(subject="li", roles=frozenset({Role.township_reviewer}), region="522323109")


@pytest.mark.parametrize(
    ("token_settings", "roles", "region", "ttl"),
    [
        (StackSettings(jwt_secret="another-secret-entirely-0123456789"), ["county_office"], "522323", 60),
        (SETTINGS, ["county_office"], "522323", -10),
        (SETTINGS, ["county_office"], "", 60),
    ],
    ids=["signed with another key", "expired", "no region scope"],
)
def test_bad_tokens_are_unauthorized(token_settings, roles, region, ttl) -> None:
    with pytest.raises(Unauthorized):
        decode_token(SETTINGS, issue_token(token_settings, subject="x", roles=roles, region=region, ttl=ttl))


def claims_token(**claims: object) -> str:
    now = int(time.time())
    base: dict[str, object] = {"sub": "x", "roles": ["county_office"], "region": "522323", "iss": "fupin"}
    base |= {"iat": now, "exp": now + 60} | claims
    return jwt.encode(base, SETTINGS.secret(), algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"region": "%"},
        {"region": "_"},
        {"region": "52232310_"},
        {"region": "5223231"},
        {"region": 522323},
        {"region": "５２２３２３"},
        {"exp": int(time.time()) + 100 * 365 * 86400},
        {"roles": ["county_office", "king"]},
        {"iat": None},
    ],
    ids=[
        "percent",
        "underscore",
        "wildcard township",
        "seven digits",
        "integer",
        "full-width",
        "100 years",
        "unknown role",
        "no iat",
    ],
)
def test_claims_that_would_widen_or_outlive_the_scope_are_refused(claims: dict[str, object]) -> None:
    token = claims_token(**{k: v for k, v in claims.items() if v is not None})
    if claims.get("iat", 0) is None:
        now = int(time.time())
        token = jwt.encode(
            {"sub": "x", "roles": ["county_office"], "region": "522323", "iss": "fupin", "exp": now + 60},
            SETTINGS.secret(),
            algorithm="HS256",
        )
    with pytest.raises(Unauthorized):
        decode_token(SETTINGS, token)


def test_refusals_are_in_our_words() -> None:
    expired = issue_token(SETTINGS, subject="x", roles=["county_office"], region="522323", ttl=-10)
    with pytest.raises(Unauthorized, match="the token has expired"):
        decode_token(SETTINGS, expired)
    forged = issue_token(
        StackSettings(jwt_secret="another-secret-entirely-0123456789"),
        subject="x",
        roles=["county_office"],
        region="522323",
    )
    with pytest.raises(Unauthorized, match="signature does not match this installation"):
        decode_token(SETTINGS, forged)


def test_the_cli_refuses_a_token_no_call_would_accept(monkeypatch) -> None:
    from typer.testing import CliRunner

    from shared.cli import app

    monkeypatch.setenv("FUPIN_JWT_SECRET", SETTINGS.secret())
    runner = CliRunner()
    assert runner.invoke(app, ["token", "--role", "county_office"]).exit_code != 0
    assert runner.invoke(app, ["token", "--role", "county_office", "--region", "52232310_"]).exit_code != 0
    first = runner.invoke(app, ["token", "--role", "county_office", "--region", "522323"])
    second = runner.invoke(app, ["token", "--role", "county_office", "--region", "522323"])
    assert first.exit_code == 0 and second.exit_code == 0
    subjects = {decode_token(SETTINGS, r.output.strip()).subject for r in (first, second)}
    assert len(subjects) == 2  # tokens never share one idempotency key space by accident
    assert runner.invoke(app, ["token", "--role", "system"]).exit_code == 0


def test_region_scope_is_a_prefix() -> None:
    township = Principal(subject="s", roles=frozenset({Role.township_reviewer}), region="522323109")
    assert township.covers("522323109001")
    assert not township.covers("522323101001")
    with pytest.raises(Forbidden):
        township.require_region("522323101001")


@pytest.mark.parametrize("secret", [None, "changeme", "secret"])
def test_production_refuses_placeholder_secrets(secret) -> None:
    with pytest.raises(ValueError, match="JWT_SECRET"):
        StackSettings(environment="production", jwt_secret=secret)


def test_development_makes_and_keeps_a_secret_in_the_data_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FUPIN_JWT_SECRET")
    settings = StackSettings(data_dir=tmp_path)
    assert settings.secret() == StackSettings(data_dir=tmp_path).secret()
    assert (tmp_path / "secrets" / "jwt.key").stat().st_mode & 0o777 == 0o600


def test_database_url_defaults_per_service(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FUPIN_FUNDS_DATABASE_URL", raising=False)
    assert StackSettings(data_dir=tmp_path).database_url("funds") == f"sqlite:///{tmp_path / 'funds.db'}"
    pg = StackSettings(postgres_url="postgresql+psycopg://u@db:5432/")
    assert pg.database_url("loans") == "postgresql+psycopg://u@db:5432/fupin_loans"
