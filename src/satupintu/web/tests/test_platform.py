"""Settings from the environment, deployment checks, migrations in step, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from satupintu.cli import main
from satupintu.config.env import ImproperlyConfiguredEnv, env, env_bool


def test_secret_from_a_file(tmp_path, monkeypatch):
    secret = tmp_path / "key"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("SOME_SECRET", raising=False)
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))
    assert env("SOME_SECRET") == "from-a-file"
    monkeypatch.setenv("SOME_SECRET", "direct")
    assert env("SOME_SECRET") == "direct"


def test_unreadable_secret_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("OTHER_SECRET", raising=False)
    monkeypatch.setenv("OTHER_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfiguredEnv, match="OTHER_SECRET_FILE"):
        env("OTHER_SECRET")


def test_bad_boolean_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("FLAG", "perhaps")
    with pytest.raises(ImproperlyConfiguredEnv, match="FLAG"):
        env_bool("FLAG")


def _run_check(tmp_path, **extra: str) -> subprocess.CompletedProcess[str]:
    dropped = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update({"SATUPINTU_DATA_DIR": str(tmp_path), "SATUPINTU_TESTING": "0", **extra})
    return subprocess.run([sys.executable, "-m", "satupintu.cli", "check", "--deploy"],
                          capture_output=True, text=True, env=environment, timeout=120)


def test_production_settings_pass_the_deploy_check_with_no_warnings(tmp_path):
    result = _run_check(tmp_path, SATUPINTU_ENV="production", DEBUG="false",
                        SECRET_KEY="x7#K" + "q9Zr!mP2vL8wT4nB6yH1cF3dJ5gS0aE" * 2,
                        ALLOWED_HOSTS="cc.example.co.id",
                        FIELD_ENCRYPTION_KEYS="ZmVybmV0LWtleS1mb3ItdGhlLWRlcGxveS10ZXN0LTE=",
                        BLIND_INDEX_KEY="blind-index-key-for-the-deploy-test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"])
def test_production_without_each_key_refuses_to_start(tmp_path, missing):
    keys = {"SECRET_KEY": "s" * 60, "FIELD_ENCRYPTION_KEYS": "k", "BLIND_INDEX_KEY": "b"}
    environment = {k: v for k, v in os.environ.items() if k not in keys}
    environment.update({k: v for k, v in keys.items() if k != missing})
    environment.update({"SATUPINTU_DATA_DIR": str(tmp_path), "SATUPINTU_ENV": "production",
                        "ALLOWED_HOSTS": "cc.example.co.id"})
    result = subprocess.run([sys.executable, "-m", "satupintu.cli", "check"],
                            capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode != 0 and missing in result.stderr


def test_production_without_a_secret_refuses_to_start(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY"}}
    environment.update({"SATUPINTU_DATA_DIR": str(tmp_path), "SATUPINTU_ENV": "production"})
    result = subprocess.run([sys.executable, "-m", "satupintu.cli", "check"],
                            capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_migrations_are_in_step_with_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_cli_check_and_unknown_command(capsys):
    assert main(["check"]) == 0
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_signed_in_pages_are_not_cached(client, org, login):
    login(client, org.alice)
    assert client.get("/").headers["Cache-Control"] == "no-store"
