"""The Telegram adapter against the loopback Bot API server (real HTTP, real PTB)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram.error import TelegramError

from core.templating import TemplateRenderer
from platforms.base import (
    ConfigurationError,
    ContactEffect,
    CredentialsRefusedError,
    DeliveryError,
    Option,
    OutboundMessage,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from platforms.telegram import TelegramSender, classify_telegram_error, split_text
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.fixtures import fake_telegram  # noqa: F401

CHAT = "4242"
REMINDER = OutboundMessage(
    text="Time for your 8:00 PM dose.",
    html="Time for your <b>8:00 PM</b> dose.",
    options=(Option("Taken", "t:ab12"), Option("Snooze 15 min", "s:ab12")),
    kind="medication_reminder",
)


@pytest.fixture
async def sender(fake_telegram: FakeTelegram) -> AsyncIterator[TelegramSender]:  # noqa: F811
    telegram = TelegramSender(DEFAULT_TOKEN, base_url=fake_telegram.base_url, timeout=2)
    yield telegram
    await telegram.aclose()


async def test_reminder_carries_inline_keyboard_in_html_mode(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    receipt = await sender.send(CHAT, REMINDER)

    [call] = fake_telegram.sent_messages
    assert call.chat_id == int(CHAT)
    assert call.params["parse_mode"] == "HTML"
    assert call.text == "Time for your <b>8:00 PM</b> dose."
    assert call.buttons() == [[("Taken", "t:ab12")], [("Snooze 15 min", "s:ab12")]]
    assert receipt.provider_message_id is not None
    assert receipt.new_address is None


async def test_columns_put_buttons_side_by_side(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    message = OutboundMessage(text="Pick", options=REMINDER.options, columns=2)
    await sender.send(CHAT, message)
    assert fake_telegram.sent_messages[0].buttons() == [
        [("Taken", "t:ab12"), ("Snooze 15 min", "s:ab12")]
    ]


async def test_variables_are_escaped_by_rendering(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    rendered = TemplateRenderer().render(
        "medication_reminder",
        "en",
        "telegram",
        {"due_at": datetime(2025, 1, 1, 20, tzinfo=UTC), "patient_name": "<b>Ann & Bo</i>"},
    )
    await sender.send(CHAT, rendered)
    [call] = fake_telegram.sent_messages
    assert call.text is not None
    assert "&lt;b&gt;Ann &amp; Bo&lt;/i&gt;" in call.text
    assert "<b>8:00 PM</b>" in call.text


async def test_plain_text_without_html_is_escaped(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    await sender.send(CHAT, OutboundMessage(text="1 < 2 & <script>"))
    assert fake_telegram.sent_messages[0].text == "1 &lt; 2 &amp; &lt;script&gt;"


async def test_long_text_is_split_with_buttons_on_the_last_part(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    paragraphs = "\n\n".join(f"Paragraph {i}: " + "word " * 150 for i in range(10))
    message = OutboundMessage(text=paragraphs, options=(Option("OK", "ok:1"),))
    receipt = await sender.send(CHAT, message)

    calls = fake_telegram.sent_messages
    assert len(calls) == 2
    texts = [c.text for c in calls]
    assert all(text is not None and len(text) <= 4096 for text in texts)
    assert calls[0].reply_markup is None
    assert calls[1].buttons() == [[("OK", "ok:1")]]
    assert texts[1] is not None and texts[1].startswith("Paragraph")  # cut on a paragraph boundary
    assert receipt.provider_message_id is not None
    assert receipt.response["message_ids"][-1] == int(receipt.provider_message_id)


def test_split_text_prefers_paragraphs_then_lines_then_words() -> None:
    assert split_text("aaaa\n\nbbbb", 6) == ["aaaa", "bbbb"]
    assert split_text("aaaa\nbbbb", 6) == ["aaaa", "bbbb"]
    assert split_text("aaa bbb ccc", 8) == ["aaa bbb", "ccc"]
    assert split_text("x" * 10, 4) == ["xxxx", "xxxx", "xx"]
    assert split_text("ab&amp;cd", 6) == ["ab", "&amp;c", "d"]  # never inside an entity


async def test_callback_data_over_64_bytes_is_refused_before_any_request(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    message = OutboundMessage(text="x", options=(Option("Taken", "t:" + "é" * 40),))
    with pytest.raises(PermanentError) as caught:
        await sender.send(CHAT, message)
    assert caught.value.code == "callback_data_too_long"
    assert fake_telegram.calls == []


async def test_edit_replaces_text_and_removes_keyboard(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    receipt = await sender.send(CHAT, REMINDER)
    assert receipt.provider_message_id is not None
    await sender.edit(CHAT, receipt.provider_message_id, OutboundMessage(text="Taken at 8:02 PM"))

    [edit] = fake_telegram.calls_to("editMessageText")
    assert edit.params["message_id"] == int(receipt.provider_message_id)
    assert edit.text == "Taken at 8:02 PM"
    assert edit.reply_markup is None


async def test_edit_to_same_content_is_success(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    fake_telegram.fail_next(
        400, "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same", method="editMessageText"
    )  # fmt: skip
    receipt = await sender.edit(CHAT, 1001, OutboundMessage(text="Taken"))
    assert receipt.provider_message_id == "1001"


async def test_answer_callback(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    assert await sender.answer_callback("cbq-1", "Noted") is True
    [call] = fake_telegram.calls_to("answerCallbackQuery")
    assert call.params == {"callback_query_id": "cbq-1", "text": "Noted", "show_alert": "false"}

    fake_telegram.fail_next(
        400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    assert await sender.answer_callback("cbq-2") is False


async def test_attachments_go_as_photo_and_document(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    message = OutboundMessage(
        text="Your week",
        attachments=(
            ("chart.png", "image/png", b"\x89PNG fake"),
            ("doses.csv", "text/csv", b"due,taken\n"),
        ),
    )
    receipt = await sender.send(CHAT, message)

    [photo] = fake_telegram.calls_to("sendPhoto")
    [document] = fake_telegram.calls_to("sendDocument")
    assert photo.files["photo"]["filename"] == "chart.png"
    assert document.files["document"]["data"] == b"due,taken\n"
    assert len(receipt.response["message_ids"]) == 3


async def test_migrated_chat_is_followed(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    fake_telegram.fail_next_migrated(-1001234567890, chat_id=-555)
    receipt = await sender.send("-555", REMINDER)

    assert receipt.new_address == "-1001234567890"
    [delivered] = fake_telegram.sent_messages
    assert delivered.chat_id == -1001234567890
    assert delivered.buttons()


# -- the error table: one test per row ---------------------------------------------------


@pytest.mark.parametrize(
    ("script", "status"),
    [
        ("fail_next_blocked", "403"),
        ("fail_next_cannot_initiate", "403"),
        ("fail_next_user_deactivated", "403"),
        ("fail_next_chat_not_found", "400"),
    ],
)
async def test_dead_chats_are_permanent_and_deactivate(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
    script: str,
    status: str,
) -> None:
    getattr(fake_telegram, script)()
    with pytest.raises(PermanentError) as caught:
        await sender.send(CHAT, REMINDER)
    assert caught.value.effect is ContactEffect.DEACTIVATE
    assert caught.value.code == status


async def test_other_bad_request_is_permanent_without_effect(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    fake_telegram.fail_next(400, "Bad Request: can't parse entities: unexpected end tag")
    with pytest.raises(PermanentError) as caught:
        await sender.send(CHAT, REMINDER)
    assert caught.value.effect is ContactEffect.NONE


async def test_flood_control_is_rate_limited_with_retry_after(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    fake_telegram.fail_next_rate_limited(retry_after=7)
    with pytest.raises(RateLimitedError) as caught:
        await sender.send(CHAT, REMINDER)
    assert caught.value.retry_after == 7


async def test_per_second_limit_answers_429(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    fake_telegram.rate_limit_per_second = 2
    await sender.send(CHAT, REMINDER)
    await sender.send(CHAT, REMINDER)
    with pytest.raises(RateLimitedError) as caught:
        await sender.send(CHAT, REMINDER)
    assert caught.value.retry_after == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
    status: int,
) -> None:
    fake_telegram.fail_next_server_error(status)
    with pytest.raises(TransientError):
        await sender.send(CHAT, REMINDER)


async def test_timeout_is_transient(fake_telegram: FakeTelegram) -> None:  # noqa: F811
    fake_telegram.latency = 0.5
    telegram = TelegramSender(DEFAULT_TOKEN, base_url=fake_telegram.base_url, timeout=0.1)
    try:
        with pytest.raises(TransientError):
            await telegram.send(CHAT, REMINDER)
    finally:
        await telegram.aclose()


async def test_connection_refused_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    telegram = TelegramSender(DEFAULT_TOKEN, base_url=f"http://127.0.0.1:{port}", timeout=1)
    try:
        with pytest.raises(TransientError):
            await telegram.send(CHAT, REMINDER)
    finally:
        await telegram.aclose()


async def test_rejected_token_is_refused_credentials(
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    telegram = TelegramSender("999:wrong", base_url=fake_telegram.base_url)
    try:
        with pytest.raises(CredentialsRefusedError):
            await telegram.send(CHAT, REMINDER)
    finally:
        await telegram.aclose()


async def test_test_environment_and_self_hosted_paths() -> None:
    async with FakeTelegram() as server:
        telegram = TelegramSender(DEFAULT_TOKEN, base_url=server.base_url, test_environment=True)
        try:
            await telegram.send(CHAT, REMINDER)
        finally:
            await telegram.aclose()
            await telegram.aclose()  # safe twice
        assert len(server.sent_messages) == 1


def test_missing_token_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        TelegramSender("")


def test_token_never_appears_in_classified_errors() -> None:
    from telegram.error import NetworkError

    from platforms.telegram import classify_telegram_error

    error = classify_telegram_error(
        NetworkError("httpx.ConnectError: https://api.telegram.org/bot123:SECRET/sendMessage")
    )
    assert isinstance(error, TransientError)
    assert "SECRET" not in str(error)


# -- the fake itself, as other test suites use it --------------------------------------------


def test_fake_accepts_json_bodies_and_works_without_an_event_loop() -> None:
    import httpx

    with FakeTelegram() as server:
        response = httpx.post(
            f"{server.base_url}/bot{DEFAULT_TOKEN}/sendMessage",
            json={
                "chat_id": 5,
                "text": "hi",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
            },
        )
        assert response.status_code == 200
        body = response.json()
        assert body["ok"] is True
        assert body["result"]["chat"]["id"] == 5
        assert server.sent_messages[0].buttons() == [[("A", "a")]]

        wrong = httpx.post(f"{server.base_url}/botnope/getMe")
        assert wrong.status_code == 401
        assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_fake_wait_for_calls_and_persistent_block(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    fake_telegram.block_chat(777)
    for _ in range(2):
        with pytest.raises(PermanentError):
            await sender.send("777", REMINDER)
    await sender.send(CHAT, REMINDER)
    [call] = await fake_telegram.wait_for_calls(1, method="sendMessage")
    assert call.chat_id == int(CHAT)
    assert len(fake_telegram.calls_to("sendMessage", ok_only=False)) == 3


async def test_fake_rejects_unescaped_html(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    with pytest.raises(PermanentError, match=r"(?i)can't parse entities"):
        await sender.send(CHAT, OutboundMessage(text="x", html="Ann <b>& co"))


# -- the lean HTTP backend (platforms/http11.py behind PTB's BaseRequest) ---------------------


def _shape(error: BaseException) -> tuple[Any, ...]:
    return (
        type(error),
        str(error),
        getattr(error, "code", None),
        getattr(error, "effect", None),
        getattr(error, "retry_after", None),
    )


@pytest.mark.parametrize(
    "script",
    [
        lambda tg: tg.fail_next_blocked(),
        lambda tg: tg.fail_next_chat_not_found(),
        lambda tg: tg.fail_next_rate_limited(retry_after=9),
        lambda tg: tg.fail_next(400, "Bad Request: can't parse entities: bad tag"),
        lambda tg: tg.fail_next(403, "Forbidden: something else"),
        lambda tg: tg.fail_next(409, "Conflict: whatever"),
        lambda tg: tg.fail_next_server_error(502),
        lambda tg: tg.fail_next_server_error(500),
        lambda tg: tg.fail_next(404, "Not Found"),
    ],
)
async def test_direct_send_classifies_exactly_like_ptb_bot(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
    script: Callable[[FakeTelegram], None],
) -> None:
    # The same scripted answer, once to TelegramSender.send (JSON body, PTB objects skipped) and
    # once to PTB's own Bot.send_message: the classified errors must not differ in any field.
    script(fake_telegram)
    with pytest.raises(DeliveryError) as direct:
        await sender.send(CHAT, OutboundMessage(text="hi"))
    script(fake_telegram)
    with pytest.raises(TelegramError) as through_ptb:
        await sender.bot.send_message(chat_id=int(CHAT), text="hi")
    assert _shape(direct.value) == _shape(classify_telegram_error(through_ptb.value))
    assert isinstance(direct.value.__cause__, type(through_ptb.value))


async def test_edit_to_a_dead_chat_deactivates(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    fake_telegram.fail_next_blocked(method="editMessageText")
    with pytest.raises(PermanentError) as caught:
        await sender.edit(CHAT, 5, OutboundMessage(text="Taken", options=REMINDER.options))
    assert caught.value.effect is ContactEffect.DEACTIVATE
    [edit] = fake_telegram.calls_to("editMessageText", ok_only=False)
    assert edit.buttons() == [[("Taken", "t:ab12")], [("Snooze 15 min", "s:ab12")]]
    assert edit.params["parse_mode"] == "HTML"


async def test_other_bot_calls_go_through_the_lean_backend(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    me = await sender.bot.get_me()
    assert me.username == fake_telegram.bot_user["username"]
    assert await sender.bot.set_webhook("https://example.org/telegram/webhook", secret_token="s")
    assert fake_telegram.webhook_url == "https://example.org/telegram/webhook"
    info = await sender.bot.get_webhook_info()
    assert info.url == "https://example.org/telegram/webhook"


async def test_sends_beyond_the_pool_wait_for_a_connection(
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    fake_telegram.latency = 0.02
    telegram = TelegramSender(
        DEFAULT_TOKEN, base_url=fake_telegram.base_url, connection_pool_size=2
    )
    try:
        receipts = await asyncio.gather(
            *(telegram.send(str(1000 + n), OutboundMessage(text=f"n{n}")) for n in range(10))
        )
    finally:
        await telegram.aclose()
    assert len({r.provider_message_id for r in receipts}) == 10
    assert sorted(c.chat_id for c in fake_telegram.sent_messages) == list(range(1000, 1010))


async def test_unicode_text_and_keyboard_arrive_intact(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    text = "Привет, время лекарства 💊 — «8:00»"
    options = (Option("Принял ✅", "t:ü"),)
    await sender.send(CHAT, OutboundMessage(text=text, options=options))
    [call] = fake_telegram.sent_messages
    assert call.text == text
    assert call.buttons() == [[("Принял ✅", "t:ü")]]


async def test_sender_reopens_after_bot_shutdown_and_initialize(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    # PTB's Application shuts the Bot (and so its request) down and may initialize it again.
    await sender.bot.initialize()
    await sender.bot.shutdown()
    await sender.bot.initialize()
    await sender.send(CHAT, REMINDER)
    assert len(fake_telegram.sent_messages) == 1


async def test_answer_callback_goes_on_the_wire_as_ptb_sends_it(
    sender: TelegramSender,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    assert await sender.answer_callback("cbq-3", show_alert=True) is True
    assert await sender.bot.answer_callback_query("cbq-3", show_alert=True) is True
    ours, ptb = fake_telegram.calls_to("answerCallbackQuery")
    assert ours.params == ptb.params == {"callback_query_id": "cbq-3", "show_alert": "true"}

    fake_telegram.fail_next_blocked(method="answerCallbackQuery")
    with pytest.raises(PermanentError) as caught:
        await sender.answer_callback("cbq-4", "Noted")
    assert caught.value.effect is ContactEffect.DEACTIVATE
