"""Start-up with bad settings stops with a message that says what to fix; production passes --deploy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNSET = {"DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k not in UNSET}, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql//nonsense", "is not a supported database URL"),
        ("postgres://user@host:5432/", "names no database"),
        ("postgres://user@host:notaport/db", "could not be parsed"),
    ],
)
def test_bad_database_url_stops_start_up(url, message):
    result = manage("check", DATABASE_URL=url)
    assert result.returncode != 0
    assert message in result.stderr
    assert "DATABASE_URL" in result.stderr


def test_production_without_secret_key_stops_start_up():
    result = manage("check", DEBUG="0", ALLOWED_HOSTS="cx.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_without_allowed_hosts_stops_start_up():
    result = manage("check", DEBUG="0", SECRET_KEY="k" * 60)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


def test_malformed_throttle_rate_is_named():
    result = manage("check", API_THROTTLE_USER="lots")
    assert result.returncode != 0
    assert "API_THROTTLE_USER='lots' is not a rate" in result.stderr


def test_malformed_boolean_is_named():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_production_mode_passes_check_deploy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="a3Vq8-pL2x_zR7mN0sT4wY6cE1gH9jK5bD3fA8uI2oP7qW4eR6tY1uI3oP5aS7dF",
        ALLOWED_HOSTS="cx.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _embedded_secret_key(var_dir) -> str:
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)", CXGOV_VAR_DIR=str(var_dir)
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_embedded_default_makes_its_secret_key_once_per_install_and_keeps_it(tmp_path):
    first = _embedded_secret_key(tmp_path / "one")
    assert len(first) >= 50 and "insecure" not in first
    assert (tmp_path / "one" / "secret_key").read_text().strip() == first
    assert _embedded_secret_key(tmp_path / "one") == first  # kept across restarts
    assert _embedded_secret_key(tmp_path / "two") != first  # another install, another key


def test_rates_and_lockout_are_set_from_the_environment():
    code = (
        "from django.conf import settings; r = settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']; "
        "print(r['user'], r['anon'], r['ingest'], settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME)"
    )
    result = manage(
        "shell",
        "-c",
        code,
        API_THROTTLE_USER="7/minute",
        API_THROTTLE_ANON="1/second",
        API_THROTTLE_INGEST="2/day",
        LOGIN_FAILURE_LIMIT="9",
        LOGIN_LOCKOUT_MINUTES="0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "7/minute 1/second 2/day 9 None"
