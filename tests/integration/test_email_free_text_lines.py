"""A clinic's message of several lines keeps its lines in the e-mail a patient's mail app shows.

Found by hand (session 29, ``medremind dev``, a clinician composing to an e-mail patient): a free
text's HTML part was the text escaped and nothing else, so "Line one / Line two / (blank) /
Para two" showed as one run-on line in every mail app (they show the HTML part of a
multipart/alternative e-mail, where a line break is a space); the plain part kept the lines. A
template's e-mail was already a page with its paragraphs and line breaks
(``core.templating.email_page``); a free text is now the same page.

Real parts: the dispatcher on the embedded Postgres, the renderer as the worker builds it, the
SMTP adapter sending to a real aiosmtpd server.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from core.db import Database
from core.templating import TemplateRenderer
from platforms.base import Channel
from platforms.email import EmailSender
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests import factories
from tests.fakes.fixtures import smtp_sink  # noqa: F401
from tests.fakes.smtp import SmtpSink

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TEXT = "Your results are in.\nBring your card <and> the form.\n\nSee you on Monday & thanks."


async def test_a_free_texts_lines_and_paragraphs_show_in_the_html_part(
    db: Database,
    admin_conn: asyncpg.Connection,
    smtp_sink: SmtpSink,  # noqa: F811
) -> None:
    assert db.pool is not None
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"email": "ana@example.org"}, locale="es"
    )
    await factories.create_message(
        admin_conn, patient["id"], message_content=TEXT, scheduled_time=AT
    )
    sender = EmailSender(
        "127.0.0.1", smtp_sink.port, from_address="clinic@example.org", starttls=False, timeout=5
    )
    config = DispatcherConfig(worker_id="mail", platform_rates={}, recipient_rates={})
    renderer = TemplateRenderer()
    dispatcher = Dispatcher(db.pool, {Channel.EMAIL: sender}, renderer, lambda: AT, config)
    assert await dispatcher.run_once() == 1

    [received] = smtp_sink.messages
    plain, html = received.get_body(("plain",)), received.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n").strip() == TEXT
    page = html.get_content().replace("\r\n", "\n")
    assert '<html lang="es">' in page
    assert (
        "<p>Your results are in.<br>Bring your card &lt;and&gt; the form.</p>\n"
        "<p>See you on Monday &amp; thanks.</p>"
    ) in page
