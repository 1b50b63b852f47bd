"""Settings from the environment: time zone, database URL and the production check."""

import json
import os
import secrets
import subprocess
import sys

PRINT_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup();"
    "db = settings.DATABASES['default'];"
    "print(json.dumps({'tz': settings.TIME_ZONE, 'engine': db['ENGINE'], 'name': str(db['NAME']),"
    " 'host': db.get('HOST', ''), 'port': db.get('PORT', ''), 'user': db.get('USER', '')}))"
)


def clean_env(**overrides):
    """The current environment without the variables under test, plus `overrides`."""
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests in the same worker process;
    # a deployment never has it, and check --deploy rightly refuses it.
    excluded = {"TIME_ZONE", "DATABASE_URL", "GRIDGOV_MODE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in excluded}
    env["DJANGO_SETTINGS_MODULE"] = "gridgov.settings"
    env.update(overrides)
    return env


def settings_in_subprocess(tmp_path, **env):
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], capture_output=True, text=True, timeout=120, env=clean_env(GRIDGOV_HOME=str(tmp_path), **env)
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_time_zone_defaults_to_shanghai_and_sqlite_in_var(tmp_path):
    values = settings_in_subprocess(tmp_path)
    assert values["tz"] == "Asia/Shanghai"
    assert values["engine"] == "gridgov.core.sqlite"  # Django's SQLite backend + the writer queue
    assert values["name"] == str(tmp_path / "var" / "gridgov.sqlite3")


def test_database_url_is_honoured(tmp_path):
    values = settings_in_subprocess(tmp_path, DATABASE_URL="postgresql://gov:secret@db.example:5433/gridgov_prod")
    assert values["engine"] == "django.db.backends.postgresql"
    assert (values["name"], values["host"], values["port"], values["user"]) == ("gridgov_prod", "db.example", 5433, "gov")


def test_check_deploy_passes_in_production_mode(tmp_path):
    env = clean_env(
        GRIDGOV_HOME=str(tmp_path),
        GRIDGOV_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="gridgov.example.org",
    )
    result = subprocess.run(
        [sys.executable, "-m", "gridgov.cli", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output, output
