"""Tokens carry roles and a region scope; settings refuse placeholder secrets outside development."""

from __future__ import annotations

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
