"""Clinics' provider accounts in the database: encrypted, write-only for clinicians, rotatable.

Real PostgreSQL (RLS and column grants as on Supabase), a real SMTP server (aiosmtpd) and the
loopback Twilio for the checks on save.
"""

from __future__ import annotations

import asyncpg
import pytest

from core.credentials import (
    CredentialsKeyMissing,
    SecretBox,
    looks_encrypted,
    new_key,
    open_text,
)
from core.db import Database
from core.settings import Settings
from medremind.provider_accounts import list_accounts, reseal_all, save_account
from platforms.base import Channel, ConfigurationError, OutboundMessage
from platforms.provider_accounts import AccountProblem
from scheduler.clinic_senders import ClinicSenders, UnusableAccount
from tests.factories import create_clinician, create_organization
from tests.fakes.fake_twilio import FakeTwilio
from tests.fakes.fixtures import fake_twilio  # noqa: F401
from tests.fakes.smtp import SmtpSink
from tests.integration.clinician import as_clinician

SID = "AC" + "ab" * 16
TOKEN = "a-clinic-auth-token-0042"
NUMBER = "+14155550177"


@pytest.fixture
def twilio_settings(settings: Settings, fake_twilio: FakeTwilio) -> Settings:  # noqa: F811
    fake_twilio.add_account(
        SID, TOKEN, numbers=[NUMBER], services=["MG" + "2a" * 16], whatsapp_senders=[NUMBER]
    )
    return settings.model_copy(update={"twilio_api_base_url": fake_twilio.base_url})


async def _save_sms(db: Database, settings: Settings, box: SecretBox, org: asyncpg.Record) -> None:
    assert db.pool is not None
    fields = {"account_sid": SID, "auth_token": TOKEN, "from_number": NUMBER}
    await save_account(db.pool, settings, box, org["id"], "sms", fields, actor="test")


async def test_clinicians_see_the_hint_never_the_secret(
    db: Database, admin_conn: asyncpg.Connection, twilio_settings: Settings
) -> None:
    org = await create_organization(admin_conn)
    elsewhere = await create_organization(admin_conn)
    await _save_sms(db, twilio_settings, SecretBox(new_key()), org)
    clinician = await create_clinician(admin_conn, org["id"])
    stranger = await create_clinician(admin_conn, elsewhere["id"], role="admin")

    async with as_clinician(admin_conn, clinician["id"]):
        row = await admin_conn.fetchrow(
            "select channel, secret_hint, inbound_number, config from clinic_provider_accounts"
        )
        assert (row["channel"], row["secret_hint"], row["inbound_number"]) == (
            "sms",
            "****0042",
            NUMBER,
        )
        assert TOKEN not in str(row["config"])
    for statement in (
        "select secret from clinic_provider_accounts",
        "select * from clinic_provider_accounts",
        "update clinic_provider_accounts set secret = 'x'",
        "insert into clinic_provider_accounts (organization_id, channel, config, secret,"
        " secret_hint, validated_at, updated_by) select organization_id, 'email', '{}', 'x', 'x',"
        " now(), 'me' from clinicians where id = auth.uid()",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with as_clinician(admin_conn, clinician["id"]):
                await admin_conn.execute(statement)
    # Another clinic's admin sees none of it.
    async with as_clinician(admin_conn, stranger["id"]):
        assert await admin_conn.fetchval("select count(*) from clinic_provider_accounts") == 0


async def test_only_an_admin_gets_a_token_for_changes(admin_conn: asyncpg.Connection) -> None:
    org = await create_organization(admin_conn)
    clinician = await create_clinician(admin_conn, org["id"])
    admin = await create_clinician(admin_conn, org["id"], role="admin")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="only an admin"):
        async with as_clinician(admin_conn, clinician["id"]):
            await admin_conn.fetchval("select public.issue_clinic_admin_token()")
    async with as_clinician(admin_conn, admin["id"]):
        token = await admin_conn.fetchval("select public.issue_clinic_admin_token()")
    assert len(token) == 64
    stored = await admin_conn.fetchval("select token_hash from clinic_admin_tokens")
    assert stored != token  # only its hash
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(admin_conn, admin["id"]):
            await admin_conn.fetch("select * from clinic_admin_tokens")


async def test_a_rotated_key_keeps_old_rows_readable_and_reseal_moves_them(
    db: Database, admin_conn: asyncpg.Connection, twilio_settings: Settings
) -> None:
    assert db.pool is not None
    old, new = new_key(), new_key()
    org = await create_organization(admin_conn)
    await _save_sms(db, twilio_settings, SecretBox(old), org)

    async def sender_with(keys: str) -> object:
        clinics = ClinicSenders(db.pool, twilio_settings, {}, SecretBox(keys))
        await clinics.refresh()
        try:
            return clinics.for_clinic(org["id"])[Channel.SMS]
        finally:
            await clinics.aclose()

    # The new key first, the old one kept: the row made with the old key still opens.
    assert getattr(await sender_with(f"{new},{old}"), "from_number", None) == NUMBER
    assert isinstance(await sender_with(new), UnusableAccount)
    assert await reseal_all(db.pool, SecretBox(f"{new},{old}")) == (1, 0)
    # Now the new key alone opens it, and the old one no longer does.
    assert getattr(await sender_with(new), "from_number", None) == NUMBER
    assert isinstance(await sender_with(old), UnusableAccount)
    unusable = await sender_with(old)
    assert isinstance(unusable, UnusableAccount)
    assert "MEDREMIND_CREDENTIALS_KEY" in unusable.reason


async def test_smtp_account_is_checked_before_it_is_stored(
    db: Database, admin_conn: asyncpg.Connection, settings: Settings
) -> None:
    assert db.pool is not None
    org = await create_organization(admin_conn)
    box = SecretBox(new_key())
    lan = settings.model_copy(update={"webhook_allow_private": True})
    with SmtpSink(username="clinic", password="right-password") as smtp:
        fields = {
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "none",
            "username": "clinic",
            "password": "wrong-password",
            "from_address": "Harbour Clinic <care@harbour.test>",
        }
        # A loopback (or private) server is refused before any connection unless allowed.
        with pytest.raises(AccountProblem) as private:
            await save_account(db.pool, settings, box, org["id"], "email", fields, actor="t")
        assert private.value.field == "host" and "loopback" in private.value.reason
        with pytest.raises(AccountProblem) as refused:
            await save_account(db.pool, lan, box, org["id"], "email", fields, actor="t")
        assert refused.value.field == "password"
        assert await list_accounts(db.pool, org["id"]) == []
        fields["password"] = "right-password"
        view = await save_account(db.pool, lan, box, org["id"], "email", fields, actor="t")
    assert view["secret_hint"] == "****word"
    assert view["config"]["host"] == "127.0.0.1"
    assert "password" not in view["config"]
    with pytest.raises(AccountProblem) as unreachable:
        await save_account(db.pool, lan, box, org["id"], "email", fields, actor="t")
    assert unreachable.value.field == "host"


async def test_rotation_encrypts_webhook_secrets_stored_before_encryption(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    assert db.pool is not None
    org = await create_organization(admin_conn)
    plain = "whsec_" + "A" * 32
    subscription = await admin_conn.fetchval(
        "insert into webhook_subscriptions (organization_id, url, event_types, secret)"
        " values ($1, 'https://clinic.example/hook', '{message.status}', $2) returning id",
        org["id"],
        plain,
    )
    box = SecretBox(new_key())
    assert open_text(box, plain) == plain  # a secret from before encryption still signs
    assert await reseal_all(db.pool, box) == (1, 0)
    stored = await admin_conn.fetchval(
        "select secret from webhook_subscriptions where id = $1", subscription
    )
    assert looks_encrypted(stored) and plain not in stored
    assert open_text(box, stored) == plain
    with pytest.raises(CredentialsKeyMissing):
        open_text(None, stored)


async def test_each_channel_sends_through_the_clinics_own_account(
    db: Database,
    admin_conn: asyncpg.Connection,
    twilio_settings: Settings,
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    """The worker's senders for a clinic's WhatsApp and e-mail accounts (SMS: the process test):
    the channel's ordinary adapter with the clinic's values, its own rate key."""
    assert db.pool is not None
    org = await create_organization(admin_conn)
    box = SecretBox(new_key())
    lan = twilio_settings.model_copy(update={"webhook_allow_private": True})
    template = "HX" + "0f" * 16  # approved in the clinic's Twilio account
    fake_twilio.contents[template] = {"types": {"twilio/text": {"body": "A message for you"}}}
    with SmtpSink() as smtp:
        await save_account(
            db.pool, lan, box, org["id"], "whatsapp",
            {"account_sid": SID, "auth_token": TOKEN, "from_number": NUMBER,
             "content_sids": {"free_text": template}},
            actor="t",
        )  # fmt: skip
        await save_account(
            db.pool, lan, box, org["id"], "email",
            {"host": "127.0.0.1", "port": smtp.port, "security": "none",
             "from_address": "Harbour Clinic <care@harbour.test>"},
            actor="t",
        )  # fmt: skip
        service = "MG" + "2a" * 16
        pool_org = await create_organization(admin_conn)
        await save_account(
            db.pool, lan, box, pool_org["id"], "sms",
            {"account_sid": SID, "auth_token": TOKEN, "messaging_service_sid": service},
            actor="t",
        )  # fmt: skip
        defaults = {Channel.EMAIL: object(), Channel.SMS: object()}
        clinics = ClinicSenders(db.pool, lan, defaults, box)  # type: ignore[arg-type]
        await clinics.refresh()
        try:
            senders = clinics.for_clinic(org["id"])
            assert senders[Channel.SMS] is defaults[Channel.SMS]  # no own SMS: the default
            # Replies to a message received through a clinic's messaging service leave from it.
            pooled = clinics.for_clinic(pool_org["id"])[Channel.SMS]
            assert clinics.for_number(Channel.SMS, service) is pooled
            assert getattr(pooled, "rate_key", None) == f"sms:{service}"
            assert clinics.for_number(Channel.WHATSAPP, NUMBER) is senders[Channel.WHATSAPP]
            assert clinics.for_clinic(None) == defaults
            whatsapp, email = senders[Channel.WHATSAPP], senders[Channel.EMAIL]
            assert getattr(whatsapp, "rate_key", None) == f"whatsapp:{NUMBER}"
            assert getattr(email, "rate_key", None) == f"smtp:127.0.0.1:{smtp.port}"
            await whatsapp.send("+14155550142", OutboundMessage(text="Your dose"))
            await email.send("ines@patient.test", OutboundMessage(text="Your dose", subject="Hi"))
        finally:
            await clinics.aclose()
        # Without MEDREMIND_WEBHOOK_ALLOW_PRIVATE the stored loopback server is not connected to.
        guarded = ClinicSenders(db.pool, twilio_settings, defaults, box)  # type: ignore[arg-type]
        await guarded.refresh()
        try:
            with pytest.raises(ConfigurationError, match="loopback"):
                await guarded.for_clinic(org["id"])[Channel.EMAIL].send(
                    "ines@patient.test", OutboundMessage(text="Your dose")
                )
        finally:
            await guarded.aclose()
        [sent] = fake_twilio.messages
        assert (sent.account_sid, sent.from_) == (SID, f"whatsapp:{NUMBER}")
        # Outside the 24-hour window: the clinic's own approved template.
        assert sent.content_sid == template and sent.rendered == {
            "type": "twilio/text",
            "body": "A message for you",
        }
        [mail] = smtp.messages
        assert mail["From"] == "Harbour Clinic <care@harbour.test>"
