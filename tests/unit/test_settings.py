"""Settings fail fast, naming the variable and what a valid value looks like."""

from __future__ import annotations

import os
import subprocess
from typing import get_args

import pytest

from core.settings import Settings, SettingsError, load_settings
from scheduler.backoff import DEFAULT_BASE_SECONDS
from scheduler.dispatch_config import DispatcherConfig
from tests.cli_processes import run_cli


@pytest.mark.parametrize(
    ("env", "variable", "hint"),
    [
        ({"PORT": "abc"}, "PORT", "TCP port"),
        ({"PORT": "70000"}, "PORT", "TCP port"),
        ({"MEDREMIND_DEFAULT_TIMEZONE": "Mars/Olympus"}, "MEDREMIND_DEFAULT_TIMEZONE", "IANA"),
        ({"MEDREMIND_QUIET_HOURS_START": "25:00"}, "MEDREMIND_QUIET_HOURS_START", "21:00"),
        ({"SMTP_STARTTLS": "maybe"}, "SMTP_STARTTLS", "true or false"),
        ({"PUBLIC_BASE_URL": "medremind.example.org"}, "PUBLIC_BASE_URL", "https://"),
        ({"TWILIO_WHATSAPP_CONTENT_SIDS": "{oops"}, "TWILIO_WHATSAPP_CONTENT_SIDS", "JSON"),
        ({"MEDREMIND_LOG_LEVEL": "LOUD"}, "MEDREMIND_LOG_LEVEL", "DEBUG"),
        ({"MEDREMIND_RETRY_BASE_SECONDS": "0"}, "MEDREMIND_RETRY_BASE_SECONDS", "greater than 0"),
        # Read and never used before: every new SMS patient got English whatever it said.
        ({"MEDREMIND_DEFAULT_LOCALE": "fr"}, "MEDREMIND_DEFAULT_LOCALE", "use one of en, es"),
        # asyncpg refused it at start-up with a traceback.
        (
            {"MEDREMIND_DB_POOL_MIN": "5", "MEDREMIND_DB_POOL_MAX": "2"},
            "MEDREMIND_DB_POOL_MAX",
            "less than MEDREMIND_DB_POOL_MIN (5)",
        ),
    ],
)
def test_bad_setting_names_the_variable(env: dict[str, str], variable: str, hint: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    assert variable in str(info.value)
    assert hint in str(info.value)


def test_defaults_need_nothing() -> None:
    settings = load_settings({})
    assert settings.embedded
    assert settings.port == 8000
    assert settings.telegram_bot_token is None


def test_empty_values_mean_unset() -> None:
    settings = load_settings({"DATABASE_URL": "", "PORT": ""})
    assert settings.embedded and settings.port == 8000


def test_secrets_do_not_print() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": "123456:SECRETSECRET"})
    assert "SECRETSECRET" not in repr(settings)


def _cli(command: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """``medremind <command>`` as a process, with ``variables`` over this environment (forked
    with the commands imported: tests.cli_processes)."""
    return run_cli([command], env={**os.environ, **variables}, timeout=60)


def test_cli_exits_with_the_variable_name() -> None:
    result = _cli("check", PORT="abc")
    assert result.returncode == 2
    assert "PORT" in result.stderr


def test_the_retry_base_is_the_backoffs_default_and_reaches_the_dispatcher() -> None:
    """MEDREMIND_RETRY_BASE_SECONDS: unset, the first retry waits up to 10 s as before."""
    assert load_settings({}).retry_base_seconds == DEFAULT_BASE_SECONDS
    assert DispatcherConfig.from_settings(load_settings({})).backoff_base_seconds == 10.0
    fast = load_settings({"MEDREMIND_RETRY_BASE_SECONDS": "0.2"})
    assert DispatcherConfig.from_settings(fast).backoff_base_seconds == 0.2


def _typed_fields() -> list[tuple[str, type]]:
    """Every number and switch of the settings, by variable, with its type."""
    found: list[tuple[str, type]] = []
    for field in Settings.model_fields.values():
        kinds = [
            k for k in (bool, int, float) if k in (field.annotation, *get_args(field.annotation))
        ]
        if kinds and field.alias is not None:
            found.append((str(field.alias), kinds[0]))
    return found


@pytest.mark.parametrize(("variable", "kind"), _typed_fields(), ids=lambda v: str(v))
def test_every_number_and_switch_says_what_a_good_value_is(variable: str, kind: type) -> None:
    """Most numbers answered only pydantic's words ("MEDREMIND_LEASE_SECONDS: Input should be a
    valid number, unable to parse string as a number"), with no value to type instead."""
    with pytest.raises(SettingsError) as info:
        load_settings({variable: "sixty"})
    said = str(info.value)
    assert variable in said
    expected = "true or false" if kind is bool else "such as "
    assert f"expected {'' if kind is bool else 'a'}" in said and expected in said, said


def test_cli_names_a_value_to_type_instead() -> None:
    result = _cli("migrate", MEDREMIND_LEASE_SECONDS="1m")
    assert result.returncode == 2
    assert "MEDREMIND_LEASE_SECONDS" in result.stderr
    assert "expected a number of seconds such as 60" in result.stderr, result.stderr
