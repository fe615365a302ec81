"""The limits the running service enforces, published in the database for the dashboard.

The dashboard (dashboard/, NextJS on the same database) checks a composed text or a template
against the SMS segment limit as the worker will; it reads it from ``service_limits`` (migration
20260101009120), which ``medremind worker`` and ``medremind web`` write at start from their own
settings, so the limit is configured once (``MEDREMIND_SMS_MAX_SEGMENTS``). The clinics' hourly
share of priority 0 (``MEDREMIND_API_PRIORITY_ZERO_PER_HOUR``) is published too: every re-send of
a priority-0 message takes from it, the dashboard's as well (``public.resend_message``, migration
20260101017650). So is the cap on a clinic's messages per patient
(``MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR`` and ``_DAY``), which a trigger checks on every
insert, the dashboard's too (migration 20260101018340).
"""

from __future__ import annotations

import logging

import asyncpg

from core.settings import Settings
from core.sql import query

logger = logging.getLogger(__name__)


async def publish_limits(pool: asyncpg.Pool, settings: Settings) -> None:
    """Write this process's limits to ``service_limits`` (the last process to start wins).

    A failure is logged, not raised: the service runs without it, and the dashboard then keeps
    the default limit.
    """
    try:
        await pool.execute(
            query("web", "publish_limits"),
            settings.sms_max_segments,
            settings.api_priority_zero_per_hour,
            settings.clinic_messages_per_patient_hour,
            settings.clinic_messages_per_patient_day,
        )
    except (asyncpg.PostgresError, OSError) as exc:
        logger.warning("could not publish the service limits: %s", type(exc).__name__)
