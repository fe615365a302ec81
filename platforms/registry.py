"""Which sender serves each channel, given the settings.

A channel with credentials gets its real adapter. One without gets an :class:`OutboxSender` only
when the outbox is on (``MEDREMIND_OUTBOX_ENABLED``, which ``medremind dev`` turns on), so
``medremind dev`` works end to end; elsewhere it gets no sender, and routing passes its messages
to the patient's next channel or fails them with the reason: a deployment never reports a file as
a send. The console is always there. :func:`channel_status` says the same in words, for
``medremind check``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from platforms.base import Channel, ChannelSender
from platforms.console import ConsoleSender
from platforms.outbox import OutboxSender

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from core.db import Database
    from core.settings import Settings
    from platforms.webpush_store import PostgresSubscriptionStore
    from platforms.whatsapp import LastInboundLookup
    from platforms.whatsapp_content import ContentStore


def channel_status(settings: Settings) -> dict[Channel, tuple[bool, str]]:
    """``{channel: (usable, why)}``; ``why`` names missing variables, never their values."""
    twilio_missing = [
        name
        for name, value in (
            ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
            ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
        )
        if not value
    ]
    if settings.outbox_on:
        outbox = (
            f"OUTBOX: messages are written as files to {settings.outbox_path}, never sent to"
            " patients (MEDREMIND_OUTBOX_ENABLED)"
        )
    else:
        outbox = (
            "no sender: its messages go to the patient's next channel or fail, saying why"
            " (the outbox folder is off outside `medremind dev`; MEDREMIND_OUTBOX_ENABLED=true"
            " writes them to files instead)"
        )

    def verdict(missing: list[str], ready: str) -> tuple[bool, str]:
        if missing:
            return False, f"{' and '.join(missing)} not set: {outbox}"
        return True, ready

    sms_from = (
        []
        if (settings.twilio_messaging_service_sid or settings.twilio_sms_from)
        else ["TWILIO_MESSAGING_SERVICE_SID or TWILIO_SMS_FROM"]
    )
    wa_from = [] if settings.twilio_whatsapp_from else ["TWILIO_WHATSAPP_FROM"]
    templates = len(settings.twilio_whatsapp_content_sids)
    email_missing = [
        name
        for name, value in (("SMTP_HOST", settings.smtp_host), ("SMTP_FROM", settings.smtp_from))
        if not value
    ]
    security = "TLS" if settings.smtp_use_tls else "STARTTLS" if settings.smtp_starttls else "plain"
    return {
        Channel.TELEGRAM: verdict(
            [] if settings.telegram_bot_token else ["TELEGRAM_BOT_TOKEN"],
            f"Bot API at {settings.telegram_api_base_url}, "
            f"{1 + len(settings.telegram_extra_tokens)} bot(s)",
        ),
        Channel.SMS: verdict(
            twilio_missing + sms_from, f"Twilio SMS via {settings.twilio_api_base_url}"
        ),
        Channel.WHATSAPP: verdict(
            twilio_missing + wa_from,
            f"Twilio WhatsApp via {settings.twilio_api_base_url}; "
            f"{templates} approved template(s) for sends outside the 24-hour window; "
            + (
                f"quick-reply buttons inside it (Content API at {settings.twilio_content_base_url})"
                if settings.whatsapp_quick_replies
                else "numbered replies inside it (WHATSAPP_QUICK_REPLIES=false)"
            ),
        ),
        Channel.EMAIL: verdict(
            email_missing,
            f"SMTP {settings.smtp_host}:{settings.smtp_port} ({security})",
        ),
        Channel.WEBPUSH: webpush_status(settings),
        Channel.CONSOLE: (True, "always available (prints to the terminal)"),
    }


# The channels a missing configuration can send to the outbox folder instead of a provider.
OUTBOX_CAPABLE = (Channel.TELEGRAM, Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)


def outbox_channels(settings: Settings, usable: dict[Channel, bool] | None = None) -> list[Channel]:
    """The channels whose messages go to the outbox folder: unconfigured ones, when it is on."""
    if not settings.outbox_on:
        return []
    if usable is None:
        usable = {channel: ok for channel, (ok, _) in channel_status(settings).items()}
    return [channel for channel in OUTBOX_CAPABLE if not usable[channel]]


def webpush_status(settings: Settings) -> tuple[bool, str]:
    """Whether Web Push can send: a VAPID key that parses and a subject."""
    missing = [
        name
        for name, value in (
            ("VAPID_PRIVATE_KEY", settings.vapid_private_key),
            ("VAPID_SUBJECT", settings.vapid_subject),
        )
        if not value
    ]
    if missing:
        return False, f"{' and '.join(missing)} not set: the patient app gets no push notifications"
    from platforms.webpush import VapidKey

    assert settings.vapid_private_key is not None
    try:
        key = VapidKey.parse(settings.vapid_private_key.get_secret_value())
    except ValueError as exc:
        return False, str(exc)
    return True, f"VAPID public key {key.application_server_key[:12]}..., {settings.vapid_subject}"


def build_senders(
    settings: Settings,
    *,
    console_stream: TextIO | None = None,
    last_inbound_lookup: LastInboundLookup | None = None,
    content_store: ContentStore | None = None,
    database: Database | None = None,
    clock: Callable[[], datetime] | None = None,
) -> dict[Channel, ChannelSender]:
    """One sender per channel: the real adapter when configured, else the outbox when it is on
    (``settings.outbox_on``), else none (routing skips a channel without a sender).

    ``content_store`` keeps WhatsApp quick-reply Content SIDs across restarts (else in memory).
    ``database``: the service database, which the browser channels need (push subscriptions;
    live deliveries handed to the web process): ``websocket`` always, ``webpush`` with a VAPID key.
    ``clock``: now for WhatsApp's 24-hour window, the clock the inbound times are stored by
    (None: the real one).

    Vendor SDKs are imported only for configured channels. Close every sender with ``aclose()``.
    """
    usable = {channel: ok for channel, (ok, _) in channel_status(settings).items()}
    outbox_dir = settings.outbox_path
    senders: dict[Channel, ChannelSender] = {}
    if usable[Channel.TELEGRAM]:
        from platforms.telegram_bots import TelegramBots

        # Every bot of the service (TELEGRAM_BOT_TOKEN and MEDREMIND_TELEGRAM_BOTS), each chat
        # sent through its own bot (platforms.telegram_bots).
        senders[Channel.TELEGRAM] = TelegramBots.from_settings(settings)
    if usable[Channel.SMS]:
        from platforms.sms import SmsSender

        senders[Channel.SMS] = SmsSender.from_settings(settings)
    if usable[Channel.WHATSAPP]:
        from platforms.whatsapp import WhatsAppSender

        whatsapp_clock = {"clock": clock} if clock is not None else {}
        senders[Channel.WHATSAPP] = WhatsAppSender.from_settings(
            settings,
            last_inbound_at=last_inbound_lookup,
            content_store=content_store,
            **whatsapp_clock,
        )
    if usable[Channel.EMAIL]:
        from platforms.email import EmailSender

        senders[Channel.EMAIL] = EmailSender.from_settings(settings)
    if database is not None:
        from platforms.webpush_store import PostgresSubscriptionStore
        from platforms.websocket import WebSocketSender

        senders[Channel.WEBSOCKET] = WebSocketSender(database)
        if usable[Channel.WEBPUSH]:
            senders[Channel.WEBPUSH] = webpush_sender(settings, PostgresSubscriptionStore(database))
    for channel in outbox_channels(settings, usable):
        senders[channel] = OutboxSender(
            channel,
            outbox_dir,
            from_address=settings.smtp_from or "medremind@localhost",
            sms_max_segments=settings.sms_max_segments,
        )
    senders[Channel.CONSOLE] = ConsoleSender(console_stream, files_dir=outbox_dir / "console")
    return senders


def webpush_sender(settings: Settings, store: PostgresSubscriptionStore) -> ChannelSender:
    """The Web Push sender for a configured VAPID key, signing its answer buttons."""
    from platforms.push_actions import ActionSigner
    from platforms.webpush import VapidKey, WebPushSender

    assert settings.vapid_private_key is not None and settings.vapid_subject is not None
    key = VapidKey.parse(settings.vapid_private_key.get_secret_value())
    return WebPushSender(
        key, settings.vapid_subject, store, signer=ActionSigner(key.secret_bytes())
    )


__all__ = [
    "OUTBOX_CAPABLE",
    "build_senders",
    "channel_status",
    "outbox_channels",
    "webpush_sender",
    "webpush_status",
]
