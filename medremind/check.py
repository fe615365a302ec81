"""``medremind check``: the effective configuration (secrets masked), usable channels, whether
patients' answers can arrive, the database, and the fleet's circuit breakers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import SecretStr

from core.db import Database
from core.migrate import MigrationError, applied_versions, discover
from core.settings import Settings
from core.sql import query

# A worker heard from within this is alive (it beats every MEDREMIND_WORKER_HEARTBEAT_SECONDS).
ALIVE_SECONDS = 60.0


def masked_configuration(settings: Settings) -> dict[str, str]:
    """Every setting by its environment variable name; secrets shown only as set or unset."""
    shown: dict[str, str] = {}
    for name, field in type(settings).model_fields.items():
        value: Any = getattr(settings, name)
        key = field.alias or name.upper()
        if isinstance(value, SecretStr):
            shown[key] = "****** (set)" if value.get_secret_value() else "(empty)"
        elif value is None:
            shown[key] = "(unset)"
        else:
            shown[key] = str(value)
    if settings.database_url is None:
        shown["DATABASE_URL"] = f"(unset: embedded PostgreSQL in {settings.data_dir / 'pgdata'})"
    return shown


@contextlib.asynccontextmanager
async def _connection(
    settings: Settings, connect_timeout: float
) -> AsyncIterator[asyncpg.Connection]:
    database = Database(settings)
    try:
        conn = await asyncio.wait_for(database.connect(as_app_role=False), connect_timeout)
        try:
            yield conn
        finally:
            await conn.close()
    finally:
        await database.stop()


async def database_status(settings: Settings, connect_timeout: float = 15.0) -> tuple[bool, str]:
    """Whether the database is reachable and every migration is applied."""
    try:
        async with _connection(settings, connect_timeout) as conn:
            done = await applied_versions(conn)
    except (OSError, TimeoutError) as exc:
        return False, f"unreachable: {type(exc).__name__}: {exc}"
    except Exception as exc:  # any driver error is a failed check, reported by name
        return False, f"error: {type(exc).__name__}: {exc}"
    try:
        missing = [m.path.name for m in discover() if m.version not in done]
    except MigrationError as exc:
        return False, str(exc)
    if missing:
        return False, f"reachable, {len(missing)} migration(s) pending: run `medremind migrate`"
    return True, f"reachable, migrated ({len(done)} migrations)"


def embedded_address(settings: Settings) -> str:
    """Where other programs reach the embedded server. The dashboard needs its URL in
    ``DATABASE_URL`` ("the same database as the Python service"), and nothing said what that is
    on a machine without one: a socket in a folder the wheel chooses, user ``postgres``."""
    from core.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(settings.data_dir)
    try:
        url = server.start()
    finally:
        server.stop()
    return (
        f"the dashboard (its DATABASE_URL) and psql reach it at {url} while a medremind"
        " process (dev, web or worker) runs; the last one to stop stops it"
    )


def answers_problems(
    settings: Settings, usable: dict[Any, bool], clinics: list[ClinicAccounts] | None = None
) -> list[str]:
    """Why patients' answers could not arrive on a deployment (empty: they can).

    Telegram's webhook is registered at, and Twilio's signatures are checked against,
    ``PUBLIC_BASE_URL``: without it no Telegram update arrives and every Twilio webhook (answers,
    STOP, delivery status) is refused. ``medremind dev`` (the embedded database) polls Telegram
    instead and is not a deployment. A clinic's own Twilio account needs it as much as the
    service-wide one. E-mail needs it for the patient app's address its reminders end with.
    """
    if settings.public_base_url or settings.embedded:
        return []
    from platforms.base import Channel

    own = {ch for clinic in clinics or [] for ch in clinic.usable_channels}
    needing = [
        str(ch)
        for ch in (Channel.TELEGRAM, Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)
        if usable.get(ch) or str(ch) in own
    ]
    if not needing:
        return []
    said = f"PUBLIC_BASE_URL is not set but {', '.join(needing)} is configured:"
    if needing != [str(Channel.EMAIL)]:
        said += (
            " no Telegram webhook is registered and every Twilio webhook is refused, so"
            " patients' answers, STOP and delivery reports never arrive."
        )
    if str(Channel.EMAIL) in needing:
        # Nothing reads e-mail back: a reminder names the patient app as where to answer.
        said += (
            " E-mail reminders cannot say where to answer (the patient app), so a patient"
            " reached only by e-mail cannot answer at all."
        )
    return [f"{said} Set PUBLIC_BASE_URL to the web process's public https:// URL."]


def outbox_report(settings: Settings, usable: dict[Any, bool]) -> tuple[list[str], bool]:
    """Lines saying loudly what happens to the channels without credentials, and whether this
    is a deployment without any service-wide provider channel (then each clinic must have
    accounts of its own: see ``clinic_coverage_lines``).

    ``medremind check`` is not ``medremind dev``: the outbox counts as on only when
    ``MEDREMIND_OUTBOX_ENABLED`` is true. On the embedded database (a developer's machine) no
    provider channel is no failure: ``medremind dev`` writes to the outbox there.
    """
    from platforms.registry import OUTBOX_CAPABLE

    missing = [str(ch) for ch in OUTBOX_CAPABLE if not usable[ch]]
    if not missing:
        return [], False
    names = ", ".join(missing)
    if settings.outbox_on:
        where = "a deployment: " if not settings.embedded else ""
        return [
            f"OUTBOX ON - {where}{names} messages are written as files to"
            f" {settings.outbox_path} and marked 'outbox', never sent to patients"
            " (MEDREMIND_OUTBOX_ENABLED=true)"
        ], False
    lines = [
        f"OUTBOX OFF - {names} cannot send (no credentials): their messages go to the"
        " patient's next channel or fail with the reason recorded"
        + ("; `medremind dev` writes them to the outbox folder" if settings.embedded else "")
    ]
    none_can_send = len(missing) == len(OUTBOX_CAPABLE) and not settings.embedded
    return lines, none_can_send


async def fleet_breakers(settings: Settings, connect_timeout: float = 15.0) -> list[str]:
    """The fleet's open circuit breakers (medremind.check_breakers)."""
    from medremind.check_breakers import breaker_lines, read_breakers

    try:
        async with _connection(settings, connect_timeout) as conn:
            rows = await read_breakers(conn, ALIVE_SECONDS)
    except Exception as exc:  # reported, like the database check
        return [f"Breakers: unknown - {type(exc).__name__}: {exc}"]
    return breaker_lines(rows, ALIVE_SECONDS)


async def zone_lines(settings: Settings, connect_timeout: float = 15.0) -> list[str]:
    """Patients in a zone no zone database knows (Etc/Unknown), per clinic: printed, not a
    failed check (the clinic or the patient sets the zone; nothing is planned until then)."""
    try:
        async with _connection(settings, connect_timeout) as conn:
            clinics = await conn.fetch(query("web", "clinics_own_zone_unknown"))
            rows = await conn.fetch(query("web", "clinics_zone_unknown"))
    except Exception as exc:  # reported, like the database check
        return [f"Time zones: unknown - {type(exc).__name__}"]
    lines = [
        f"Time zones: UNKNOWN - clinic {c['name']}'s own zone {c['timezone']!r} is no place's"
        " time zone: patients added without one are refused (POST /api/v1/patients); set the"
        " clinic's (PATCH /api/v1/clinic, or the dashboard's settings)"
        for c in clinics
    ]
    lines += [
        f"Time zones: UNKNOWN - {r['patients']} patient(s) of {r['name']} in a zone no zone"
        " database knows (Etc/Unknown): nothing is planned for them until it is set (GET"
        " /api/v1/patients?timezone_unknown=true lists them; the bot asks them when they write)"
        for r in rows
    ]
    if not clinics:
        lines.insert(0, "Time zones: every clinic's is known")
    if not rows:
        lines.append("Time zones: every patient's is known")
    return lines


async def planner_lines(settings: Settings, connect_timeout: float = 15.0) -> list[str]:
    """Schedules the planner fails to plan (planner_failures), and patients a later step of its
    tick fails for (planner_step_failures): printed, not a failed check (the deployment works;
    those patients' data, or the code, need a fix)."""
    try:
        async with _connection(settings, connect_timeout) as conn:
            failed = await conn.fetchval(query("web", "planning_failed"))
            steps = await conn.fetch(query("web", "planner_steps_failed"))
    except Exception as exc:  # reported, like the database check
        return [f"Planner: unknown - {type(exc).__name__}"]
    lines = ["Planner: every schedule plans"]
    if failed:
        lines = [
            f"Planner: FAILING - {failed} schedule(s) fail to plan and their patients get no"
            " reminders from them (the others are planned; each tick tries them again): `select"
            " * from planner_failures` lists them, the worker's log says why by id (\"schedule"
            ' planning failed": error class and SQLSTATE)'
        ]
    if not steps:
        return [*lines, "Planner steps: every step runs for every patient"]
    by_step = ", ".join(f"{row['step']} {row['n']}" for row in sorted(steps, key=lambda r: r[0]))
    return [
        *lines,
        f"Planner steps: FAILING - {steps[0]['patients']} patient(s) miss what a step of the"
        f" planner tick does for them ({by_step}: follow-ups and caregiver alerts, refills, a"
        " pause's end, appointments...; the others are done, each tick tries them again):"
        " `select * from planner_step_failures` lists them, the worker's log says why by id"
        ' ("planner step failed": error class and SQLSTATE)',
    ]


async def outgoing_webhooks(
    settings: Settings, connect_timeout: float = 15.0
) -> tuple[list[str], bool]:
    """Outgoing webhooks' lines (medremind.check_webhooks), and whether none can be signed."""
    from core.credentials import SecretBox
    from medremind.check_webhooks import read_webhooks, webhook_lines

    try:
        async with _connection(settings, connect_timeout) as conn:
            subscriptions, backlog = await read_webhooks(conn)
    except Exception as exc:  # reported, like the database check
        return [f"Outgoing webhooks: unknown - {type(exc).__name__}"], False
    return webhook_lines(subscriptions, backlog, SecretBox.from_settings(settings))


async def run_check(settings: Settings) -> int:
    """Print the report; exit 0 when the database is ready, answers can arrive and every clinic
    can send on some channel (the service-wide providers, or its own accounts), 1 otherwise. An
    open circuit breaker is printed, loudly, but is a provider's outage, not this deployment's
    fault: it does not fail the check."""
    from platforms.registry import channel_status

    print("Configuration:")
    for key, value in sorted(masked_configuration(settings).items()):
        print(f"  {key} = {value}")
    print("Channels:")
    statuses = channel_status(settings)
    for channel, (usable, why) in statuses.items():
        print(f"  {channel}: {'usable' if usable else 'not usable'} - {why}")
    usable_by_channel = {ch: ok for ch, (ok, _) in statuses.items()}
    outbox_lines, no_service_wide = outbox_report(settings, usable_by_channel)
    for line in outbox_lines:
        print(line)
    ok, why = await database_status(settings)
    clinics: list[ClinicAccounts] = []
    if ok:
        clinics = await clinic_accounts(settings)
    problems = answers_problems(settings, usable_by_channel, clinics)
    for problem in problems:
        print(f"Answers: CANNOT ARRIVE - {problem}")
    print(f"Database: {'ok' if ok else 'NOT READY'} - {why}")
    if ok and settings.database_url is None:
        print(f"Database: embedded - {embedded_address(settings)}")
    failed = not ok or bool(problems)
    if not ok and no_service_wide:
        print(NONE_CAN_SEND)  # the clinics' own accounts cannot be read: judged without them
        failed = True
    if ok:
        lines, unusable = clinic_accounts_lines(clinics)
        coverage, stranded = clinic_coverage_lines(clinics, no_service_wide=no_service_wide)
        for line in [*lines, *coverage]:
            print(line)
        webhooks, unsigned = await outgoing_webhooks(settings)
        found = [
            *await fleet_breakers(settings),
            *await zone_lines(settings),
            *await planner_lines(settings),
            *webhooks,
        ]
        for line in found:
            print(line)
        failed = failed or bool(unusable) or stranded or unsigned
    return 1 if failed else 0


NONE_CAN_SEND = (
    "Channels: NONE CAN SEND - no provider is configured and the outbox is off; set the"
    " credentials of at least one channel (README: Configuration)"
)


@dataclass(frozen=True)
class ClinicAccounts:
    """One clinic and its own provider accounts, each opened with the key (nothing is sent)."""

    name: str
    accounts: list[tuple[str, bool, str]]  # (channel, usable, label or why not)

    @property
    def usable_channels(self) -> list[str]:
        return [channel for channel, usable, _ in self.accounts if usable]


async def clinic_accounts(settings: Settings) -> list[ClinicAccounts]:
    """Every clinic with its own accounts (none for most), opened with
    ``MEDREMIND_CREDENTIALS_KEY``."""
    from core.credentials import SecretBox
    from scheduler.clinic_senders import open_account

    box = SecretBox.from_settings(settings)
    async with _connection(settings, 15.0) as conn:
        clinics = await conn.fetch(query("accounts", "clinics_for_check"))
        rows = await conn.fetch(query("accounts", "accounts_for_check"))
    by_clinic: dict[Any, list[tuple[str, bool, str]]] = {c["id"]: [] for c in clinics}
    for row in rows:
        account, description = open_account(row, box)
        by_clinic[row["organization_id"]].append(
            (str(row["channel"]), account is not None, description)
        )
    return [ClinicAccounts(str(c["name"]), by_clinic[c["id"]]) for c in clinics]


def clinic_accounts_lines(clinics: list[ClinicAccounts]) -> tuple[list[str], int]:
    """One line per clinic account: usable or why not; and how many cannot be used (their
    clinic's messages on that channel fail)."""
    accounts = [(c.name, *a) for c in clinics for a in c.accounts]
    if not accounts:
        return ["Clinic accounts: none; every clinic uses the channels above"], 0
    lines = ["Clinic accounts (own senders; their other channels use the ones above):"]
    for clinic, channel, usable, description in accounts:
        state = "usable" if usable else "NOT USABLE"
        lines.append(f"  {clinic}: {channel}: {state} - {description}")
    return lines, sum(not usable for _, _, usable, _ in accounts)


def clinic_coverage_lines(
    clinics: list[ClinicAccounts], *, no_service_wide: bool
) -> tuple[list[str], bool]:
    """Without service-wide provider credentials, whether each clinic can still send through
    its own accounts (issue 17): the lines, and whether some clinic (or, with no clinic at all,
    the service) cannot send on any channel."""
    if not no_service_wide:
        return [], False
    if not clinics:
        return [NONE_CAN_SEND], True
    stranded = [c for c in clinics if not c.usable_channels]
    if not stranded:
        return [
            "Channels: no service-wide provider - every clinic sends through its own accounts"
            " (above); a patient of no clinic cannot be sent anything"
        ], False
    lines = [
        f"Channels: {len(stranded)} of {len(clinics)} clinic(s) CANNOT SEND - there is no"
        " service-wide provider (set TELEGRAM_BOT_TOKEN, TWILIO_* or SMTP_*) and these have no"
        " usable account of their own (add one in the dashboard's provider accounts or with"
        " PUT /api/v1/provider-accounts/{channel}):"
    ]
    for clinic in stranded:
        if clinic.accounts:
            what = "; ".join(f"{ch}: {why}" for ch, _, why in clinic.accounts)
        else:
            what = "no provider account"
        lines.append(f"  {clinic.name}: {what}")
    return lines, True
