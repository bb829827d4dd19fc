"""A deployed stage reads the API token digests and the database URL from Secrets Manager, once, at
cold start; nothing is read at import or when the ids are unset (local stack, tests)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters import stage_secrets
from chalicelib.config import get_settings, hash_token

RDS = {
    "username": "sitegen",
    "password": "p@ss:/word",
    "host": "db.internal",
    "port": 5432,
    "dbname": "sitegen",
    "engine": "postgres",
}


def test_token_digests_ignore_anything_that_is_not_one():
    digest = hash_token("tok")
    assert stage_secrets.token_digests(f" {digest.upper()} , junk,{'0' * 63}") == {digest}
    assert stage_secrets.token_digests(None) == set()


def test_database_url_from_a_url_or_rds_json_with_a_proxy_host():
    url = "postgresql+pg8000://u:p@h:5432/d"
    assert stage_secrets.database_url(url) == url
    assert stage_secrets.database_url(url, "proxy.example") == "postgresql+pg8000://u:p@proxy.example:5432/d"
    assert stage_secrets.database_url(json.dumps(RDS), "sitegen.proxy-abc.us-east-1.rds.amazonaws.com") == (
        "postgresql+pg8000://sitegen:p%40ss%3A%2Fword@sitegen.proxy-abc.us-east-1.rds.amazonaws.com:5432/sitegen"
    )
    assert stage_secrets.database_url(None) is None
    with pytest.raises(RuntimeError, match="neither"):
        stage_secrets.database_url("not json")


def test_read_treats_the_template_placeholder_as_empty_and_needs_no_client_without_an_id():
    assert stage_secrets.read(None) is None and stage_secrets.read("") is None
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name="sitegen/dev/database-url", SecretString="unset")
        assert stage_secrets.read("sitegen/dev/database-url", client) is None


@pytest.fixture()
def fresh_settings(monkeypatch):
    for name in ("DATABASE_URL", "SITEGEN_API_TOKEN", "SITEGEN_API_TOKENS", "SITEGEN_API_TOKEN_SHA256"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_settings_come_from_the_stage_secrets(fresh_settings):
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        tokens = client.create_secret(
            Name="sitegen/dev/api-token-sha256", SecretString=f"{hash_token('old')},{hash_token('new')}"
        )["ARN"]
        database = client.create_secret(Name="rds!db-123", SecretString=json.dumps(RDS))["ARN"]
        fresh_settings.setenv("SITEGEN_API_TOKEN_SECRET_ID", tokens)
        fresh_settings.setenv("SITEGEN_DATABASE_SECRET_ID", database)
        fresh_settings.setenv("SITEGEN_DATABASE_HOST", "proxy.internal")
        settings = get_settings()
    assert settings.token_hashes == {hash_token("old"), hash_token("new")}
    assert settings.database_url == "postgresql+pg8000://sitegen:p%40ss%3A%2Fword@proxy.internal:5432/sitegen"


def test_an_authorizer_without_the_database_secret_reads_only_the_tokens(fresh_settings):
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        tokens = client.create_secret(Name="sitegen/dev/api-token-sha256", SecretString="unset")["ARN"]
        fresh_settings.setenv("SITEGEN_API_TOKEN_SECRET_ID", tokens)
        fresh_settings.setenv("SITEGEN_DATABASE_SECRET_ID", "")  # as the template sets it for Bearer
        settings = get_settings()
    assert settings.token_hashes == frozenset() and settings.database_url is None  # fails closed
