"""The environment for a ``medremind`` process a test starts: the test's own, never the machine's.

A variable the service reads (quiet hours, timezone, credentials, ports) that happens to be set in
the shell or on the CI machine must not change what a test's web, worker or dev process does, and
the hour the suite runs at must not either. So a test process starts from the machine's environment
less every variable of :class:`core.settings.Settings`, with quiet hours explicitly off (start =
end) and UTC as the default timezone, then the test's own values. A test about quiet hours sets a
window (see ``quiet_window_around``) or injects a clock.

The outbox is explicitly on (``MEDREMIND_OUTBOX_ENABLED=true``): outside ``medremind dev`` a
channel without credentials has no sender unless it is, and many tests let e-mail or SMS go to the
outbox folder. A test about the refusal passes ``MEDREMIND_OUTBOX_ENABLED="false"``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from core.settings import Settings

# Prefixes of variables the service, its providers or the dashboard read, beyond the settings'
# own names (a future provider setting is covered before it is added to Settings).
_SERVICE_PREFIXES = (
    "MEDREMIND_",
    "TELEGRAM_",
    "TWILIO_",
    "SMTP_",
    "WHATSAPP_",
    "SUPABASE_",
    "VAPID_",
)
# Test switches under a service prefix that a test process must keep.
_TEST_SWITCHES = frozenset({"MEDREMIND_STRESS"})

QUIET_HOURS_OFF = {"MEDREMIND_QUIET_HOURS_START": "00:00", "MEDREMIND_QUIET_HOURS_END": "00:00"}
OUTBOX_ON = {"MEDREMIND_OUTBOX_ENABLED": "true"}


def _service_variables() -> frozenset[str]:
    return frozenset(
        field.alias for field in Settings.model_fields.values() if field.alias is not None
    )


def service_env(**variables: str) -> dict[str, str]:
    """The machine's environment less the service's, quiet hours off, the outbox on, plus
    ``variables``."""
    service = _service_variables()
    env = {
        key: value
        for key, value in os.environ.items()
        if key in _TEST_SWITCHES or (key not in service and not key.startswith(_SERVICE_PREFIXES))
    }
    env.update(QUIET_HOURS_OFF)
    env.update(OUTBOX_ON)
    env["MEDREMIND_DEFAULT_TIMEZONE"] = "UTC"
    env.update(variables)
    return env


def quiet_window_around(
    now: datetime | None = None, margin: timedelta = timedelta(hours=1)
) -> dict[str, str]:
    """Quiet-hours variables for a UTC window from ``margin`` before ``now`` to ``margin`` after.

    For tests that check that quiet hours defer a message whatever the hour the suite runs at.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "MEDREMIND_QUIET_HOURS_START": (moment - margin).strftime("%H:%M"),
        "MEDREMIND_QUIET_HOURS_END": (moment + margin).strftime("%H:%M"),
    }
