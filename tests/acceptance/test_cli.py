"""The program as a user runs it: ``medremind migrate`` and ``medremind check`` as processes."""

from __future__ import annotations

import asyncio
import re
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from core.credentials import SecretBox, new_key, seal_text
from core.embedded import EmbeddedPostgres
from medremind.commands import applied_summary
from tests.cli_processes import run_cli
from tests.factories import create_organization, create_patient, create_webhook_event
from tests.process_env import service_env

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return run_cli(args, env=env, timeout=timeout)


def _clean_env(**extra: str) -> dict[str, str]:
    return service_env(**extra)


async def _insert_sms_account(
    conn: asyncpg.Connection, org_id: object, key: str, token: str, number: str
) -> None:
    """A clinic's own Twilio SMS account, its auth token sealed with ``key``."""
    await conn.execute(
        "insert into clinic_provider_accounts (organization_id, channel, config, secret,"
        " secret_hint, inbound_number, validated_at, updated_by)"
        " values ($1, 'sms', $2, $3, $4, $5, now(), 'test')",
        org_id,
        {"account_sid": "AC" + token[-2:] * 16, "from_number": number},
        SecretBox(key).seal({"auth_token": token}),
        "****" + token[-4:],
        number,
    )


def test_a_few_applied_migrations_are_each_named() -> None:
    assert applied_summary(["a.sql", "b.sql"]) == "applied 2 migration(s): a.sql, b.sql"


@pytest.mark.slow
async def test_migrate_and_check_on_the_embedded_default(outside_tmp_path: Path) -> None:
    env = _clean_env(MEDREMIND_DATA_DIR=str(outside_tmp_path / "data"))
    first = _run(["migrate"], env)
    assert first.returncode == 0, first.stderr
    # A new database takes every migration: named by the first and the last, on one short line
    # (all 147 names made one line of ~10,000 characters on `make dev`'s first screen).
    names = sorted(p.name for p in (ROOT / "supabase" / "migrations").glob("*.sql"))
    summary = f"applied {len(names)} migrations, {names[0]} to {names[-1]}"
    assert summary in first.stdout.splitlines(), first.stdout
    second = _run(["migrate"], env)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    check = _run(["check"], env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Database: ok" in check.stdout
    assert "embedded PostgreSQL" in check.stdout
    # The embedded server was stopped when the last process exited.
    assert not (outside_tmp_path / "data" / "pgdata" / "postmaster.pid").exists()
    # Where the dashboard finds it: nothing said, and its socket and user had to be guessed.
    url = re.search(r"^Database: embedded - .* at (postgresql://\S+) while", check.stdout, re.M)
    assert url is not None, check.stdout
    server = EmbeddedPostgres(outside_tmp_path / "data")  # as `medremind dev` keeps it running
    server.start()
    try:
        conn = await asyncpg.connect(url.group(1))
        try:
            assert await conn.fetchval("select count(*) from medremind_migrations") == len(names)
        finally:
            await conn.close()
    finally:
        server.stop()


def test_migrate_against_database_url_is_idempotent(database_url: str, tmp_path: Path) -> None:
    env = _clean_env(DATABASE_URL=database_url, MEDREMIND_DATA_DIR=str(tmp_path))
    # The test database was cloned from a migrated template: nothing to do, twice.
    for _ in range(2):
        result = _run(["migrate"], env)
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout


def test_check_masks_secrets_and_explains_channels(database_url: str, tmp_path: Path) -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
    env = _clean_env(
        DATABASE_URL=database_url,
        MEDREMIND_DATA_DIR=str(tmp_path),
        TELEGRAM_BOT_TOKEN=token,
        SMTP_PASSWORD="hunter2hunter2",
        PUBLIC_BASE_URL="https://medremind.example.org",
    )
    result = _run(["check"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert token not in result.stdout + result.stderr
    assert "hunter2hunter2" not in result.stdout + result.stderr
    assert "TELEGRAM_BOT_TOKEN = ****** (set)" in result.stdout
    assert "sms: not usable" in result.stdout


def test_check_fails_on_a_deployment_that_cannot_receive_answers(
    database_url: str, tmp_path: Path
) -> None:
    """Issue 16: without PUBLIC_BASE_URL no Telegram webhook is registered and every Twilio
    webhook is refused; check called Telegram 'usable' and exited 0."""
    env = _clean_env(
        DATABASE_URL=database_url,
        MEDREMIND_DATA_DIR=str(tmp_path),
        TELEGRAM_BOT_TOKEN="123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq",
    )
    result = _run(["check"], env)
    assert result.returncode == 1, result.stdout
    assert "Answers: CANNOT ARRIVE - PUBLIC_BASE_URL is not set but telegram" in result.stdout
    assert "Database: ok" in result.stdout


def test_check_fails_on_e_mail_without_a_public_url(database_url: str, tmp_path: Path) -> None:
    """Nothing reads e-mail back: without PUBLIC_BASE_URL an e-mail reminder cannot name the
    patient app, and a patient reached only by e-mail cannot answer at all."""
    env = _clean_env(
        DATABASE_URL=database_url,
        MEDREMIND_DATA_DIR=str(tmp_path),
        SMTP_HOST="smtp.clinic.example",
        SMTP_FROM="reminders@clinic.example",
    )
    result = _run(["check"], env)
    assert result.returncode == 1, result.stdout
    assert "PUBLIC_BASE_URL is not set but email is configured: E-mail reminders" in result.stdout
    assert "Twilio" not in result.stdout.split("Answers:")[1].splitlines()[0]


def test_check_fails_when_database_unreachable(tmp_path: Path) -> None:
    env = _clean_env(
        DATABASE_URL="postgresql://nobody:nothing@127.0.0.1:1/none",
        MEDREMIND_DATA_DIR=str(tmp_path),
    )
    result = _run(["check"], env)
    assert result.returncode == 1
    assert "NOT READY" in result.stdout
    assert "nothing" not in result.stdout  # the password in the URL is masked


def test_check_says_loudly_what_the_outbox_does_on_a_deployment(
    database_url: str, tmp_path: Path
) -> None:
    """Issue 16: a deployment without SMTP or Twilio credentials wrote those messages to files
    and called them sent, and check only said 'not usable'. Now it says which channels write
    files nobody receives (outbox on) or cannot send at all (off), and fails when none can."""
    deployment = {
        "DATABASE_URL": database_url,
        "MEDREMIND_DATA_DIR": str(tmp_path),
        "PUBLIC_BASE_URL": "https://medremind.example.org",
    }
    telegram = {"TELEGRAM_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"}

    on = _run(["check"], _clean_env(**deployment, **telegram, MEDREMIND_OUTBOX_ENABLED="true"))
    assert on.returncode == 0, on.stdout + on.stderr
    assert (
        "OUTBOX ON - a deployment: sms, whatsapp, email messages are written as files to"
        in on.stdout
    )
    assert "never sent to patients" in on.stdout

    off = _run(["check"], _clean_env(**deployment, **telegram, MEDREMIND_OUTBOX_ENABLED="false"))
    assert off.returncode == 0, off.stdout + off.stderr
    assert "OUTBOX OFF - sms, whatsapp, email cannot send (no credentials)" in off.stdout
    assert "telegram: usable" in off.stdout

    nothing = _run(["check"], _clean_env(**deployment, MEDREMIND_OUTBOX_ENABLED="false"))
    assert nothing.returncode == 1, nothing.stdout
    assert "Channels: NONE CAN SEND" in nothing.stdout
    assert "Database: ok" in nothing.stdout


async def test_check_lists_clinic_accounts_and_rotation_keeps_them_usable(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """Issue 17: `medremind check` says which clinic's own channels are usable; after a new key
    goes first, `medremind rotate-credentials` re-encrypts every stored secret with it."""
    old, new = new_key(), new_key()
    token = "cli-clinic-token-5d21"
    org = await create_organization(admin_conn, name="Harbour Clinic")
    await admin_conn.execute(
        "insert into clinic_provider_accounts (organization_id, channel, config, secret,"
        " secret_hint, inbound_number, validated_at, updated_by)"
        " values ($1, 'sms', $2, $3, '****5d21', '+14155550199', now(), 'test')",
        org["id"],
        {"account_sid": "AC" + "5e" * 16, "from_number": "+14155550199"},
        SecretBox(old).seal({"auth_token": token}),
    )
    deployment = {
        "DATABASE_URL": database_url,
        "MEDREMIND_DATA_DIR": str(tmp_path),
        "PUBLIC_BASE_URL": "https://medremind.example.org",
        "TELEGRAM_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq",
    }
    usable = _run(["check"], _clean_env(**deployment, MEDREMIND_CREDENTIALS_KEY=old))
    assert usable.returncode == 0, usable.stdout + usable.stderr
    assert "Harbour Clinic: sms: usable - Twilio sms from +14155550199" in usable.stdout

    wrong = _run(["check"], _clean_env(**deployment, MEDREMIND_CREDENTIALS_KEY=new))
    assert wrong.returncode == 1
    assert "Harbour Clinic: sms: NOT USABLE - cannot be used: no key of" in wrong.stdout

    rotated = _run(
        ["rotate-credentials"], _clean_env(**deployment, MEDREMIND_CREDENTIALS_KEY=f"{new},{old}")
    )
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "re-encrypted 1 stored secret(s)" in rotated.stdout
    again = _run(["check"], _clean_env(**deployment, MEDREMIND_CREDENTIALS_KEY=new))
    assert again.returncode == 0, again.stdout
    assert "Harbour Clinic: sms: usable" in again.stdout
    for result in (usable, wrong, rotated, again):
        assert token not in result.stdout + result.stderr
        assert old not in result.stdout + result.stderr and new not in result.stdout


async def test_check_judges_each_clinic_without_service_wide_credentials(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """Issue 17's per-clinic accounts: with no service-wide provider, check failed ("NONE CAN
    SEND") even when every clinic had its own account. It now judges each clinic, names the one
    that cannot send and what it lacks, and passes once every clinic can."""
    key = new_key()
    harbour = await create_organization(admin_conn, name="Harbour Clinic")
    await create_organization(admin_conn, name="Valley Clinic")
    await _insert_sms_account(admin_conn, harbour["id"], key, "harbour-token-7a01", "+14155550123")
    deployment = {
        "DATABASE_URL": database_url,
        "MEDREMIND_DATA_DIR": str(tmp_path),
        "MEDREMIND_OUTBOX_ENABLED": "false",
        "MEDREMIND_CREDENTIALS_KEY": key,
    }

    one_short = _run(["check"], _clean_env(**deployment, PUBLIC_BASE_URL="https://m.example.org"))
    assert one_short.returncode == 1, one_short.stdout
    assert "Channels: NONE CAN SEND" not in one_short.stdout
    assert "1 of 2 clinic(s) CANNOT SEND" in one_short.stdout
    assert "  Valley Clinic: no provider account" in one_short.stdout
    assert "Harbour Clinic: sms: usable" in one_short.stdout

    valley = await admin_conn.fetchval("select id from organizations where name = 'Valley Clinic'")
    await _insert_sms_account(admin_conn, valley, key, "valley-token-7b02", "+14155550124")
    covered = _run(["check"], _clean_env(**deployment, PUBLIC_BASE_URL="https://m.example.org"))
    assert covered.returncode == 0, covered.stdout + covered.stderr
    assert "every clinic sends through its own accounts" in covered.stdout

    # A clinic's own Twilio number needs PUBLIC_BASE_URL for its patients' answers too.
    no_url = _run(["check"], _clean_env(**deployment))
    assert no_url.returncode == 1, no_url.stdout
    assert "Answers: CANNOT ARRIVE - PUBLIC_BASE_URL is not set but sms" in no_url.stdout


async def test_check_names_the_clinics_with_patients_in_an_unknown_zone(
    database_url: str, tmp_path: Path, admin_conn: asyncpg.Connection
) -> None:
    """Patients stored in Etc/Unknown are planned nothing: `medremind check` names their
    clinics (printed; not a failed check, the zone is the clinic's or the patient's to set)."""
    env = _clean_env(DATABASE_URL=database_url, MEDREMIND_DATA_DIR=str(tmp_path))
    known = await asyncio.to_thread(_run, ["check"], env)
    assert "Time zones: every patient's is known" in known.stdout, known.stdout
    assert "Time zones: every clinic's is known" in known.stdout, known.stdout
    org = await create_organization(admin_conn, name="Clínica Norte")
    for _ in range(2):
        await create_patient(admin_conn, org["id"], timezone="Etc/Unknown")
    await create_patient(admin_conn, org["id"], timezone="Europe/Madrid")
    unknown = await asyncio.to_thread(_run, ["check"], env)
    assert unknown.returncode == known.returncode, unknown.stdout
    assert (
        "Time zones: UNKNOWN - 2 patient(s) of Clínica Norte in a zone no zone database knows"
        in unknown.stdout
    ), unknown.stdout
    # The clinic's own zone: its new patients without one are refused by the API.
    await admin_conn.execute(
        "update organizations set timezone = 'Etc/Unknown' where id = $1", org["id"]
    )
    clinic = await asyncio.to_thread(_run, ["check"], env)
    assert clinic.returncode == known.returncode, clinic.stdout
    assert (
        "Time zones: UNKNOWN - clinic Clínica Norte's own zone 'Etc/Unknown' is no place's"
        " time zone" in clinic.stdout
    ), clinic.stdout
    assert "Time zones: every clinic's is known" not in clinic.stdout


async def test_check_names_what_stops_outgoing_webhooks(
    database_url: str, tmp_path: Path, admin_conn: asyncpg.Connection
) -> None:
    """Signing secrets sealed with a key the deployment lacks: every event of every clinic
    failed after its retries and `medremind check` said nothing. Now it fails naming the key;
    a clinic's failing endpoint is printed by its host (never its path: it may hold a token)."""
    key = new_key()
    env = _clean_env(DATABASE_URL=database_url, MEDREMIND_DATA_DIR=str(tmp_path))
    none = await asyncio.to_thread(_run, ["check"], env | {"MEDREMIND_CREDENTIALS_KEY": key})
    assert "Outgoing webhooks: no subscription" in none.stdout, none.stdout
    org = await create_organization(admin_conn, name="Harbour Clinic")
    await create_webhook_event(
        admin_conn,
        org["id"],
        "https://ehr.example.org/hooks/tok-5f2a",
        seal_text(SecretBox(key), "whsec_" + "B" * 32),
    )
    keyed = await asyncio.to_thread(_run, ["check"], env | {"MEDREMIND_CREDENTIALS_KEY": key})
    assert "Outgoing webhooks: 1 subscription(s) of 1 clinic(s), none failing" in keyed.stdout
    assert "Outgoing webhooks: 1 due, the oldest" in keyed.stdout
    keyless = await asyncio.to_thread(_run, ["check"], env)
    assert keyless.returncode == 1, keyless.stdout
    assert (
        "Outgoing webhooks: CANNOT SIGN - the signing secret of 1 of 1 subscription(s) cannot be"
        " opened (MEDREMIND_CREDENTIALS_KEY is not set" in keyless.stdout
    ), keyless.stdout

    await admin_conn.execute(
        "update webhook_deliveries set attempts = 1, last_status_code = 503,"
        " last_error = 'HTTP 503: busy', next_attempt_at = now() + interval '5 minutes'"
    )
    failing = await asyncio.to_thread(_run, ["check"], env | {"MEDREMIND_CREDENTIALS_KEY": key})
    assert failing.returncode == keyed.returncode, failing.stdout
    assert (
        "Outgoing webhooks: FAILING - Harbour Clinic's endpoint at ehr.example.org: 1"
        " delivery(ies) to be tried again, the last attempt got HTTP 503" in failing.stdout
    ), failing.stdout
    assert "tok-5f2a" not in failing.stdout


async def test_migrate_as_a_login_that_cannot_grant_roles_says_what_to_do(
    admin_conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    """A managed PostgreSQL's login often lacks CREATEROLE (Heroku Postgres's does): the release
    phase failed on the first migration with PostgreSQL's bare "permission denied to grant role",
    and nothing said what the service needs. The answer now names the roles and the statements a
    superuser runs once; after them the same login migrates everything."""
    login = f"lowpriv_{uuid.uuid4().hex[:8]}"
    await admin_conn.execute(f"create role {login} login nocreaterole nosuperuser")
    await admin_conn.execute(f"create database {login} owner {login}")
    parts = urlsplit(database_url)
    url = urlunsplit(parts._replace(netloc=f"{login}:@{parts.netloc.rpartition('@')[2]}"))
    url = urlunsplit(urlsplit(url)._replace(path=f"/{login}"))
    env = _clean_env(DATABASE_URL=url, MEDREMIND_DATA_DIR=str(tmp_path / "data"))
    try:
        refused = await asyncio.to_thread(_run, ["migrate"], env)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "permission denied" in refused.stderr
        assert f"grant medremind_app to {login} with admin option" in refused.stderr
        assert "docs/operations.md" in refused.stderr
        await admin_conn.execute(f"grant medremind_app to {login} with admin option")
        done = await asyncio.to_thread(_run, ["migrate"], env)
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        await admin_conn.execute(f"drop database if exists {login} with (force)")
        await admin_conn.execute(f"drop role if exists {login}")
