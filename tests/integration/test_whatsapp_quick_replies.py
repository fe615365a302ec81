"""WhatsApp quick-reply buttons through the loopback Twilio (Messages + Content API) and Postgres.

The sender is real, the Content resources are created over HTTP on the fake, which validates them
as Twilio documents, and their SIDs are kept in the real test database.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.db import Database
from core.settings import load_settings
from platforms.base import Channel, Option, OutboundMessage, PermanentError
from platforms.registry import channel_status
from platforms.whatsapp import WhatsAppSender
from platforms.whatsapp_content import ContentApi, QuickReplyContents
from platforms.whatsapp_content_store import PostgresContentStore
from platforms.whatsapp_quick_reply import Layout
from tests.fakes.fake_twilio import FakeTwilio
from tests.fakes.fixtures import fake_twilio  # noqa: F401

PATIENT = "+14155552671"
OUR_NUMBER = "+15017122661"
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
DOSE = "d:0123456789abcdef0123456789abcdef"
REMINDER = OutboundMessage(
    text="Time for your 8:00 PM dose.",
    options=(
        Option("Taken", f"{DOSE}:t"),
        Option("Snooze 15 min", f"{DOSE}:s"),
        Option("Skip", f"{DOSE}:k"),
    ),
    kind="medication_reminder",
    variables={"due_at": "Mar 4, 2026, 8:00 PM"},
)
NUMBERED = "Time for your 8:00 PM dose.\n\n1 Taken\n2 Snooze 15 min\n3 Skip"


def make_sender(
    server: FakeTwilio,
    *,
    store: PostgresContentStore | None = None,
    last_inbound: datetime | None = NOW - timedelta(hours=1),
    quick_replies: bool = True,
) -> WhatsAppSender:
    """A WhatsApp sender on the fake; the patient last wrote at ``last_inbound``."""
    contents = None
    if quick_replies:
        api = ContentApi(server.account_sid, server.auth_token, base_url=server.base_url)
        contents = QuickReplyContents(api, store=store)
    return WhatsAppSender(
        server.account_sid,
        server.auth_token,
        from_number=f"whatsapp:{OUR_NUMBER}",
        content_sids={"medication_reminder": "HX1"},
        last_inbound_at=lambda number: last_inbound,
        clock=lambda: NOW,
        api_base_url=server.base_url,
        timeout=2,
        quick_replies=contents,
    )


async def send(sender: WhatsAppSender, *messages: OutboundMessage) -> list[dict]:
    """Send each message, close the sender; the receipts' responses."""
    try:
        return [(await sender.send(PATIENT, m)).response for m in messages]
    finally:
        await sender.aclose()


async def test_reminder_goes_out_as_three_buttons_carrying_its_data(
    fake_twilio: FakeTwilio,  # noqa: F811
    db: Database,
) -> None:
    [response] = await send(make_sender(fake_twilio, store=PostgresContentStore(db)), REMINDER)
    [call] = fake_twilio.messages
    assert call.to == f"whatsapp:{PATIENT}" and call.from_ == f"whatsapp:{OUR_NUMBER}"
    assert call.body is None  # no free text: the content is the message
    assert call.content_sid in fake_twilio.contents
    assert call.rendered is not None and call.rendered["body"] == REMINDER.text
    assert call.buttons == [(o.label, o.data) for o in REMINDER.options]
    assert response["mode"] == "quick_reply" and response["buttons"] == 3
    # The created resource: one twilio/quick-reply whose texts are all variables.
    [created] = fake_twilio.contents_created
    assert created.params["types"]["twilio/quick-reply"]["body"] == "{{1}}"
    assert REMINDER.text not in json.dumps(created.params)  # no patient text kept at Twilio


async def test_contents_are_created_once_across_sends_and_restarts(
    fake_twilio: FakeTwilio,  # noqa: F811
    db: Database,
    admin_conn: asyncpg.Connection,
) -> None:
    store = PostgresContentStore(db)
    two = OutboundMessage(text="Did you take it?", options=REMINDER.options[:2])
    sender = make_sender(fake_twilio, store=store)
    # Concurrent sends of one layout wait for the one creation instead of making their own.
    try:
        await asyncio.gather(*(sender.send(PATIENT, REMINDER) for _ in range(8)))
        await sender.send(PATIENT, two)
    finally:
        await sender.aclose()
    assert len(fake_twilio.contents_created) == 2  # three buttons, two buttons
    rows = await admin_conn.fetch(
        "select account_sid, layout_key, content_sid from whatsapp_quick_reply_contents"
    )
    assert {r["layout_key"] for r in rows} == {"qr3b1p_v1", "qr2b1p_v1"}
    assert {r["content_sid"] for r in rows} == set(fake_twilio.contents)

    # A restarted process (new sender, new cache) reads them back instead of creating new ones.
    await send(make_sender(fake_twilio, store=store), REMINDER, two, REMINDER)
    assert len(fake_twilio.contents_created) == 2
    assert len(fake_twilio.messages) == 9 + 3
    assert all(len(m.buttons) in (2, 3) for m in fake_twilio.messages)

    # Without the store, a restart would create the content again: the store is what saves it.
    await send(make_sender(fake_twilio), REMINDER)
    assert len(fake_twilio.contents_created) == 3


async def test_too_many_options_fall_back_to_numbered_text(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    four = OutboundMessage(
        text="When should we remind you?",
        options=tuple(Option(f"{h} pm", f"h:{h}") for h in (6, 7, 8, 9)),
    )
    [response] = await send(make_sender(fake_twilio), four)
    [call] = fake_twilio.messages
    assert call.content_sid is None
    assert call.body == "When should we remind you?\n\n1 6 pm\n2 7 pm\n3 8 pm\n4 9 pm"
    assert response["mode"] == "freeform"
    assert response["quick_reply_fallback"] == "too_many_options"
    assert fake_twilio.content_calls == []


async def test_a_label_too_long_falls_back_and_a_slightly_long_one_is_shortened(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    too_long = OutboundMessage(
        text="Which one?", options=(Option("An option label far too long for a button", "a:1"),)
    )
    shortened = OutboundMessage(
        text="Which one?", options=(Option("Remind me again in one hour", "a:2"),)
    )
    first, second = await send(make_sender(fake_twilio), too_long, shortened)
    assert first["quick_reply_fallback"] == "label_too_long"
    assert fake_twilio.messages[0].body == f"Which one?\n\n1 {too_long.options[0].label}"
    assert second["mode"] == "quick_reply"
    assert fake_twilio.messages[1].buttons == [("Remind me again in\u2026", "a:2")]


async def test_long_body_is_split_across_variables_and_rendered_whole(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    text = ("Please take one tablet with a full glass of water after breakfast. " * 12).strip()
    assert 600 < len(text) <= 1024
    message = OutboundMessage(text=text, options=REMINDER.options)
    [response] = await send(make_sender(fake_twilio), message)
    assert response["mode"] == "quick_reply"
    [call] = fake_twilio.messages
    assert call.rendered is not None and call.rendered["body"] == text
    [created] = fake_twilio.contents_created
    assert created.params["types"]["twilio/quick-reply"]["body"] == "{{1}}{{2}}{{3}}{{4}}"


@pytest.mark.parametrize(
    ("code", "status", "error_class"),
    [(20500, 500, "transient"), (20003, 401, "config"), (21658, 400, "permanent")],
)
async def test_content_api_error_falls_back_and_the_message_is_delivered(
    fake_twilio: FakeTwilio,  # noqa: F811
    code: int,
    status: int,
    error_class: str,
) -> None:
    fake_twilio.fail_next_content(code, status)
    sender = make_sender(fake_twilio)
    first, second = await send(sender, REMINDER, REMINDER)
    assert [m.body for m in fake_twilio.messages] == [NUMBERED, NUMBERED]
    assert first["quick_reply_fallback"] == "content_unavailable"
    assert (first["error_class"], first["error_code"]) == (error_class, str(code))
    # The failure is not retried for every message: one creation attempt, not two.
    assert len(fake_twilio.content_calls) == 1
    assert second["quick_reply_fallback"] == "content_unavailable"


async def test_creation_is_tried_again_after_the_pause(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    clock = [0.0]
    api = ContentApi(fake_twilio.account_sid, fake_twilio.auth_token, base_url=fake_twilio.base_url)
    contents = QuickReplyContents(api, retry_after_failure=60, monotonic=lambda: clock[0])
    sender = make_sender(fake_twilio, quick_replies=False)
    sender.quick_replies = contents
    fake_twilio.fail_next_content(20500, 500)
    try:
        assert (await sender.send(PATIENT, REMINDER)).response["mode"] == "freeform"
        clock[0] = 61.0
        assert (await sender.send(PATIENT, REMINDER)).response["mode"] == "quick_reply"
    finally:
        await sender.aclose()
    assert len(fake_twilio.content_calls) == 2


async def test_network_failure_of_the_content_api_falls_back(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = ContentApi(
        fake_twilio.account_sid, fake_twilio.auth_token, base_url=f"http://127.0.0.1:{port}"
    )
    sender = make_sender(fake_twilio, quick_replies=False)
    sender.quick_replies = QuickReplyContents(api)
    [response] = await send(sender, REMINDER)
    assert (response["quick_reply_fallback"], response["error_class"]) == (
        "content_unavailable",
        "transient",
    )
    assert [m.body for m in fake_twilio.messages] == [NUMBERED]


async def test_content_deleted_at_twilio_falls_back_once_then_is_created_again(
    fake_twilio: FakeTwilio,  # noqa: F811
    db: Database,
    admin_conn: asyncpg.Connection,
) -> None:
    store = PostgresContentStore(db)
    await send(make_sender(fake_twilio, store=store), REMINDER)
    [old_sid] = fake_twilio.contents
    fake_twilio.delete_content(old_sid)  # someone tidied up the Console

    second, third = await send(make_sender(fake_twilio, store=store), REMINDER, REMINDER)
    assert (second["quick_reply_fallback"], second["error_code"]) == ("content_refused", "21655")
    assert fake_twilio.messages[-2].body == NUMBERED  # delivered, as text
    assert third["mode"] == "quick_reply"
    [new_sid] = fake_twilio.contents
    assert new_sid != old_sid
    stored = await admin_conn.fetchval("select content_sid from whatsapp_quick_reply_contents")
    assert stored == new_sid


async def test_other_send_errors_keep_their_classification(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    fake_twilio.opt_out(PATIENT)
    sender = make_sender(fake_twilio)
    try:
        with pytest.raises(PermanentError) as caught:
            await sender.send(PATIENT, REMINDER)
    finally:
        await sender.aclose()
    assert caught.value.code == "21610"
    assert fake_twilio.messages == []  # no text sent after an opt-out


async def test_outside_the_window_the_template_path_is_unchanged(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    sender = make_sender(fake_twilio, last_inbound=NOW - timedelta(hours=25))
    [response] = await send(sender, REMINDER)
    [call] = fake_twilio.messages
    assert call.content_sid == "HX1" and call.body is None
    assert call.content_variables == REMINDER.variables
    assert response["mode"] == "template"
    assert fake_twilio.content_calls == []


async def test_messages_without_options_stay_plain_text(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    [response] = await send(make_sender(fake_twilio), OutboundMessage(text="Thanks!"))
    assert fake_twilio.messages[0].body == "Thanks!" and response["mode"] == "freeform"
    assert "quick_reply_fallback" not in response
    assert fake_twilio.content_calls == []


@pytest.mark.parametrize("setting", ["true", "false"])
async def test_setting_turns_quick_replies_on_and_off(
    fake_twilio: FakeTwilio,  # noqa: F811
    tmp_path: Path,
    setting: str,
) -> None:
    settings = load_settings(
        {
            "MEDREMIND_DATA_DIR": str(tmp_path),
            "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
            "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
            "TWILIO_WHATSAPP_FROM": f"whatsapp:{OUR_NUMBER}",
            # The Content API follows a non-Twilio API base: the fake, never the internet.
            "TWILIO_API_BASE_URL": fake_twilio.base_url,
            "WHATSAPP_QUICK_REPLIES": setting,
        }
    )
    assert settings.twilio_content_base_url == fake_twilio.base_url
    sender = WhatsAppSender.from_settings(settings, last_inbound_at=lambda n: datetime.now(UTC))
    [response] = await send(sender, REMINDER)
    if setting == "true":
        assert response["mode"] == "quick_reply" and len(fake_twilio.messages[0].buttons) == 3
    else:
        assert sender.quick_replies is None
        assert response["mode"] == "freeform" and fake_twilio.messages[0].body == NUMBERED
        assert fake_twilio.content_calls == []


def test_content_api_base_url_defaults(tmp_path: Path) -> None:
    base = {"MEDREMIND_DATA_DIR": str(tmp_path)}
    assert load_settings(base).twilio_content_base_url == "https://content.twilio.com"
    assert load_settings(base | {"WHATSAPP_QUICK_REPLIES": "no"}).whatsapp_quick_replies is False
    explicit = base | {
        "TWILIO_API_BASE_URL": "http://proxy.internal:8080",
        "TWILIO_CONTENT_API_BASE_URL": "http://content-proxy.internal:8081/",
    }
    assert load_settings(explicit).twilio_content_base_url == "http://content-proxy.internal:8081"
    # `medremind check` says which way options go inside the window.
    configured = base | {
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_WHATSAPP_FROM": "whatsapp:+15017122661",
    }
    on = channel_status(load_settings(configured))[Channel.WHATSAPP]
    assert on[0] and "quick-reply buttons" in on[1] and "https://content.twilio.com" in on[1]
    off = channel_status(load_settings(configured | {"WHATSAPP_QUICK_REPLIES": "false"}))
    assert "WHATSAPP_QUICK_REPLIES=false" in off[Channel.WHATSAPP][1]


async def test_no_phi_in_logs(
    fake_twilio: FakeTwilio,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    named = OutboundMessage(
        text="Time for Metformin 500 mg.",
        options=(Option("Metformin taken", "d:1:t"), Option("Skip Metformin", "d:1:k")),
    )
    too_many = OutboundMessage(
        text="Metformin: when?", options=tuple(Option(f"Metformin {h}", f"h:{h}") for h in range(4))
    )
    fake_twilio.fail_next_content(20500, 500)
    caplog.set_level(logging.DEBUG)
    await send(make_sender(fake_twilio), named, too_many)
    await send(make_sender(fake_twilio), named)
    assert len(fake_twilio.messages) == 3
    logged = "\n".join(
        f"{r.getMessage()} {json.dumps(r.__dict__, default=str)}" for r in caplog.records
    )
    assert "content_unavailable" in logged and "too_many_options" in logged
    for secret in ("Metformin", PATIENT, PATIENT.lstrip("+"), fake_twilio.auth_token):
        assert secret not in logged


# -- the fake validates Content API requests as Twilio does -----------------------------------


async def _post_content(
    server: FakeTwilio,
    body: object,
    *,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST ``body`` (a string as is, anything else as JSON) with the account's credentials
    unless ``auth`` names others; ``headers`` go with a string body only."""
    auth = auth or (server.account_sid, server.auth_token)
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        if isinstance(body, str):
            return await http.post("/v1/Content", content=body, auth=auth, headers=headers or {})
        return await http.post("/v1/Content", json=body, auth=auth)


def _quick_reply(**spec: object) -> dict[str, object]:
    base: dict[str, object] = {"body": "Hi", "actions": [{"title": "Yes", "id": "y"}]}
    return {"language": "en", "types": {"twilio/quick-reply": base | spec}}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_quick_reply(actions=[{"title": "x" * 21, "id": "a"}]), 21658),
        (_quick_reply(actions=[{"title": "ok", "id": "i" * 201}]), 21658),
        (_quick_reply(body="b" * 1025), 21658),
        (_quick_reply(actions=[]), 70002),
        (_quick_reply(actions=[{"title": str(n), "id": str(n)} for n in range(11)]), 70002),
        (_quick_reply(actions=[{"id": "no-title"}]), 70002),
        (_quick_reply(footer="not a quick-reply field"), 70002),
        ({"types": _quick_reply()["types"]}, 70002),  # language is required
        ({"language": "en"}, 70002),  # types is required
        ({"language": "en", "types": {"twilio/banner": {"body": "x"}}}, 70002),
        (_quick_reply() | {"variables": {"k" * 17: "v"}}, 21658),
        (_quick_reply() | {"variables": {"1": "v" * 256}}, 21658),
        ("friendly_name=x&language=en", 70002),  # a form body, as the Messages API takes
    ],
)
async def test_fake_content_api_rejects_what_twilio_rejects(
    fake_twilio: FakeTwilio,  # noqa: F811
    body: object,
    code: int,
) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = await _post_content(fake_twilio, body, headers=headers)
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == code and payload["status"] == 400
    assert payload["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert fake_twilio.contents == {}


async def test_fake_content_api_needs_credentials_and_answers_the_resource(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    refused = await _post_content(fake_twilio, _quick_reply(), auth=("AC" + "0" * 32, "wrong"))
    assert refused.status_code == 401 and refused.json()["code"] == 20003
    created = await _post_content(fake_twilio, Layout(3, 1).create_request())
    assert created.status_code == 201
    resource = created.json()
    assert resource["sid"].startswith("HX") and len(resource["sid"]) == 34
    assert resource["account_sid"] == fake_twilio.account_sid
    assert resource["types"] == Layout(3, 1).create_request()["types"]
    assert resource["url"] == f"https://content.twilio.com/v1/Content/{resource['sid']}"
    async with httpx.AsyncClient(base_url=fake_twilio.base_url) as http:
        fetched = await http.get(
            f"/v1/Content/{resource['sid']}", auth=(fake_twilio.account_sid, fake_twilio.auth_token)
        )
    assert fetched.json() == resource


async def test_fake_refuses_bad_content_variables_and_unknown_content(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    created = await _post_content(fake_twilio, Layout(1, 1).create_request())
    sid = created.json()["sid"]
    cases = [
        ({"ContentSid": sid, "ContentVariables": "not json"}, 21656),
        ({"ContentSid": sid, "ContentVariables": '{"1": "Hi", "2": "' + "t" * 21 + '"}'}, 21658),
        ({"ContentSid": "HX" + "f" * 32, "ContentVariables": "{}"}, 21655),
    ]
    async with httpx.AsyncClient(base_url=fake_twilio.base_url) as http:
        for form, code in cases:
            response = await http.post(
                f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json",
                data={"To": f"whatsapp:{PATIENT}", "From": f"whatsapp:{OUR_NUMBER}", **form},
                auth=(fake_twilio.account_sid, fake_twilio.auth_token),
            )
            assert (response.status_code, response.json()["code"]) == (400, code)
    assert fake_twilio.messages == []
