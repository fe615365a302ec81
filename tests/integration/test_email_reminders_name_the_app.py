"""An e-mail reminder says where to answer it: nothing reads e-mail back, so a clinic's patient
reached only by e-mail got "Time for your 8:00 AM dose" with no Taken, Snooze or Skip anywhere,
and every dose went missed (and alerted the caregiver) whatever they took. With
``PUBLIC_BASE_URL`` the reminder (and its follow-ups, an appointment's) ends with the patient
app's address and the answers it takes, in the patient's language, in the text and the HTML; a
message that asks nothing is unchanged.

Real parts: the planner and the dispatcher on the embedded Postgres, the renderer as the worker
builds it, the SMTP adapter sending to a real aiosmtpd server."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings
from core.sign_in_links import app_url
from core.templating import TemplateRenderer
from platforms.base import Channel
from platforms.email import EmailSender
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planner import run_planner_tick
from tests import factories
from tests.fakes.fixtures import smtp_sink  # noqa: F401
from tests.fakes.smtp import SmtpSink

ADDRESS = "ana@example.org"
DUE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PUBLIC = "https://clinic.example.org"


async def _emailed_reminder(
    db: Database, settings: Settings, conn: asyncpg.Connection, sink: SmtpSink, locale: str
) -> tuple[str, str]:
    """An e-mail-only patient's 08:00 reminder, sent: its plain text and HTML."""
    assert db.pool is not None
    org = await factories.create_organization(conn)
    patient = await factories.create_patient(
        conn, org["id"], contacts={"email": ADDRESS}, locale=locale
    )
    await factories.create_medication(conn, patient["id"], times=(time(8, 0),))
    await run_planner_tick(db.pool, DUE - timedelta(hours=1), settings)
    sender = EmailSender(
        "127.0.0.1", sink.port, from_address="reminders@clinic.example", starttls=False, timeout=5
    )
    config = DispatcherConfig(worker_id="mail", platform_rates={}, recipient_rates={})
    renderer = TemplateRenderer(app_url=app_url(PUBLIC))  # as the worker builds it
    assert (
        await Dispatcher(db.pool, {Channel.EMAIL: sender}, renderer, lambda: DUE, config).run_once()
        == 1
    )
    [received] = sink.messages
    text, html = received.get_body(("plain",)), received.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


@pytest.mark.parametrize(
    ("locale", "line"),
    [
        ("en", "To answer (Taken / Snooze 15 min / Skip), open the MedRemind app: "),
        ("es", "Para responder (Tomada / Recordar en 15 min / Omitir), abre la app de MedRemind: "),
    ],
)
async def test_an_emailed_reminder_names_the_app_and_its_answers(
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    smtp_sink: SmtpSink,  # noqa: F811
    locale: str,
    line: str,
) -> None:
    text, html = await _emailed_reminder(db, settings, admin_conn, smtp_sink, locale)
    assert text.rstrip().endswith(line + f"{PUBLIC}/app/"), text
    assert f'<a href="{PUBLIC}/app/">{PUBLIC}/app/</a>' in html, html


def test_a_message_that_asks_nothing_is_unchanged() -> None:
    with_app = TemplateRenderer(app_url=app_url(PUBLIC))
    without = TemplateRenderer()
    for renderer in (with_app, without):
        message = renderer.render_custom("Your clinic is closed on Monday.", {}, Channel.EMAIL)
        assert message.text == "Your clinic is closed on Monday."
    assert app_url(None) is None
