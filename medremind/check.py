"""``medremind check``: the effective configuration (secrets masked), usable channels, whether
patients' answers can arrive, and the database."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import SecretStr

from core.db import Database
from core.migrate import MigrationError, applied_versions, discover
from core.settings import Settings


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


async def database_status(settings: Settings, connect_timeout: float = 15.0) -> tuple[bool, str]:
    """Whether the database is reachable and every migration is applied."""
    database = Database(settings)
    try:
        conn = await asyncio.wait_for(database.connect(as_app_role=False), connect_timeout)
        try:
            done = await applied_versions(conn)
        finally:
            await conn.close()
    except (OSError, TimeoutError) as exc:
        return False, f"unreachable: {type(exc).__name__}: {exc}"
    except Exception as exc:  # any driver error is a failed check, reported by name
        return False, f"error: {type(exc).__name__}: {exc}"
    finally:
        await database.stop()
    try:
        missing = [m.path.name for m in discover() if m.version not in done]
    except MigrationError as exc:
        return False, str(exc)
    if missing:
        return False, f"reachable, {len(missing)} migration(s) pending: run `medremind migrate`"
    return True, f"reachable, migrated ({len(done)} migrations)"


def answers_problems(settings: Settings, usable: dict[Any, bool]) -> list[str]:
    """Why patients' answers could not arrive on a deployment (empty: they can).

    Telegram's webhook is registered at, and Twilio's signatures are checked against,
    ``PUBLIC_BASE_URL``: without it no Telegram update arrives and every Twilio webhook (answers,
    STOP, delivery status) is refused. ``medremind dev`` (the embedded database) polls Telegram
    instead and is not a deployment.
    """
    if settings.public_base_url or settings.embedded:
        return []
    from platforms.base import Channel

    needing = [str(ch) for ch in (Channel.TELEGRAM, Channel.SMS, Channel.WHATSAPP) if usable[ch]]
    if not needing:
        return []
    return [
        f"PUBLIC_BASE_URL is not set but {', '.join(needing)} is configured: no Telegram webhook"
        " is registered and every Twilio webhook is refused, so patients' answers, STOP and"
        " delivery reports never arrive. Set PUBLIC_BASE_URL to the web process's public"
        " https:// URL."
    ]


async def run_check(settings: Settings) -> int:
    """Print the report; exit 0 when the database is ready and answers can arrive, 1 otherwise."""
    from platforms.registry import channel_status

    print("Configuration:")
    for key, value in sorted(masked_configuration(settings).items()):
        print(f"  {key} = {value}")
    print("Channels:")
    statuses = channel_status(settings)
    for channel, (usable, why) in statuses.items():
        print(f"  {channel}: {'usable' if usable else 'not usable'} - {why}")
    problems = answers_problems(settings, {ch: ok for ch, (ok, _) in statuses.items()})
    for problem in problems:
        print(f"Answers: CANNOT ARRIVE - {problem}")
    ok, why = await database_status(settings)
    print(f"Database: {'ok' if ok else 'NOT READY'} - {why}")
    return 0 if ok and not problems else 1
