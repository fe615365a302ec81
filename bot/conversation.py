"""The engine's data: a conversation's persisted state, one turn's input, and the replies.

A dialog step is a function of a :class:`Turn` (the inbound event, the conversation state, a
database connection inside the per-chat lock) that appends :class:`Reply` objects and moves the
conversation to its next step. Options are stored in the state so that a Telegram button
(``t:<8 hex>``) or a numbered SMS reply (``2``) can be resolved on the next turn.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from bot import texts
from bot.context import BotContext
from core.template_filters import gsm7_letters
from core.zone_labels import zone_label
from platforms.base import Channel, InboundEvent, Option

TOKEN_PREFIX = "t:"  # noqa: S105  (button data prefix, not a secret)
# Channels where options arrive as numbered text replies rather than buttons.
NUMBERED_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP, Channel.CONSOLE, Channel.EMAIL})


@dataclass(frozen=True, slots=True)
class Reply:
    """One message back to the patient.

    ``options`` are ``(label, value)`` pairs; the engine turns values into compact button data.
    ``edit`` asks to edit the message the pressed button belongs to (Telegram) instead of sending.
    """

    text: str
    options: tuple[tuple[str, str], ...] = ()
    columns: int = 1
    attachments: tuple[tuple[str, str, bytes], ...] = ()
    edit: bool = False
    # Buttons whose data is sent as is (reminder and appointment answers, see bot.callbacks).
    raw_options: tuple[tuple[str, str], ...] = ()
    # The options' labels are themselves what the step reads typed ("30" minutes): they are
    # buttons where the channel has real ones (Telegram, WhatsApp) and never numbered replies,
    # where "2" would be the second option (60) instead of 2 (bot.steps.Step.typed_labels).
    typed_labels: bool = False
    # Says what was recorded ("Taken at 8:00 AM: your dose"): still true later, so a newer reply
    # to the chat does not supersede it unsent (bot.reply_rows, migration 20260101017150).
    recorded: bool = False


@dataclass(slots=True)
class Conversation:
    """A row of ``conversations``: where the dialog is, what it collected, and active options."""

    id: UUID
    channel: Channel
    chat_address: str
    patient_id: UUID | None
    step: str
    state: dict[str, Any]
    locale: str

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Conversation:
        """From a ``lock_conversation`` row."""
        state = row["state"] if isinstance(row["state"], dict) else {}
        return cls(
            id=row["id"],
            channel=Channel(row["channel"]),
            chat_address=row["chat_address"],
            patient_id=row["patient_id"],
            step=row["step"],
            state=dict(state),
            locale=row["locale"] if row["locale"] in texts.LOCALES else texts.DEFAULT_LOCALE,
        )

    @property
    def data(self) -> dict[str, Any]:
        """What the current dialog has collected so far."""
        return self.state.setdefault("data", {})


@dataclass(slots=True)
class Turn:
    """Everything one step sees, and the replies it produces."""

    ctx: BotContext
    conn: asyncpg.Connection
    event: InboundEvent
    conv: Conversation
    now: datetime
    inbound_id: UUID
    text: str = ""
    choice: str | None = None
    stale_button: bool = False
    replies: list[Reply] = field(default_factory=list)
    patient: asyncpg.Record | None = None
    # ``patient`` was read with the conversation's lock (bot.intake): the engine need not read it.
    patient_loaded: bool = False
    # Note this inbound on the chat's contact point when the turn is saved (a known patient).
    touch_contact: bool = False
    # The dialog step did not understand the input and asked again (bot.steps.reprompt).
    reprompted: bool = False

    @property
    def locale(self) -> str:
        """The conversation's language."""
        return self.conv.locale

    def t(self, key: str, **values: Any) -> str:
        """A text in the conversation's language (over SMS in GSM-7's letters:
        :func:`bot.texts.sms_text`)."""
        if self.conv.channel is Channel.SMS:
            return texts.sms_text(self.locale, key, **values)
        return texts.text(self.locale, key, **values)

    def zone(self, zone: str) -> str:
        """Time zone ``zone`` as the patient reads it: its city in their language or its UTC
        offset, never an IANA name ("Chicago", "UTC-5" for Etc/GMT+5; core.zone_labels), and
        over SMS in GSM-7's letters ("Bogota"), as our own words are."""
        label = zone_label(zone, self.locale, self.now)
        return gsm7_letters(label) if self.conv.channel is Channel.SMS else label

    def say(
        self,
        text: str,
        options: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
        *,
        columns: int = 1,
        attachments: tuple[tuple[str, str, bytes], ...] = (),
        edit: bool = False,
        typed_labels: bool = False,
        recorded: bool = False,
    ) -> None:
        """Queue a reply; ``typed_labels``, ``recorded``: see :class:`Reply`."""
        self.replies.append(
            Reply(
                text=text,
                options=tuple(options),
                columns=columns,
                attachments=attachments,
                edit=edit,
                typed_labels=typed_labels,
                recorded=recorded,
            )
        )


def issue_options(conv: Conversation, replies: list[Reply], now: datetime) -> list[list[Option]]:
    """Give every option of this turn a fresh token and remember what numbers mean.

    Returns, per reply, the options as sent: ``t:<token>`` data for buttons. Numbered replies refer
    to the last reply that had options (SMS shows one menu at a time).
    """
    rendered: list[list[Option]] = []
    tokens: dict[str, str] = {}
    shown: list[list[str]] = []
    numbered = False
    for reply in replies:
        opts: list[Option] = []
        for label, value in reply.options:
            token = secrets.token_hex(4)
            tokens[token] = value
            opts.append(Option(label=label, data=TOKEN_PREFIX + token))
        opts.extend(Option(label=label, data=data) for label, data in reply.raw_options)
        if reply.options:
            # Numbered replies refer to the last menu (SMS shows one at a time).
            shown = [[label, value] for label, value in reply.options]
            numbered = conv.channel in NUMBERED_CHANNELS and not reply.typed_labels
        rendered.append(opts)
    if tokens:
        conv.state["tokens"] = tokens
        # The dialog's question as the answer router reads it (bot.routing.dialog_question).
        conv.state["options"] = shown
        conv.state["numbered"] = numbered
        mark_asked(conv, now)
    return rendered


# Set when a question asked after the dialog's (a reminder) was answered: the dialog's question
# is still open, but no longer what the patient last read; a typed choice for it shows it again
# first (bot.engine).
PASSED_OVER = "passed_over"


def mark_asked(conv: Conversation, now: datetime) -> None:
    """The dialog's question was (re)asked at ``now``: the newest of the chat's questions.

    ``asked_seq`` None asks the turn's save (bot.sql finish_turn) for the question's place in
    the order of the chat's recorded questions (``conversation_questions.seq``): a reminder
    stamped at the same instant is then ordered by when it was recorded, before this turn's
    end or after it, not by a convention (bot.routing.open_questions).
    """
    conv.state["asked_at"] = now.isoformat()
    conv.state["asked_seq"] = None
    conv.state.pop(PASSED_OVER, None)  # shown again: the newest thing the patient was told


def forget_asked(conv: Conversation) -> None:
    """No dialog question is open any more."""
    conv.state.pop("asked_at", None)
    conv.state.pop("asked_seq", None)
    conv.state.pop(PASSED_OVER, None)


def clear_options(conv: Conversation) -> None:
    """Forget the active options (the dialog moved on without offering new ones)."""
    for key in ("tokens", "options", "numbered", "numbers", "labels", "options_at"):
        conv.state.pop(key, None)


def resolve_button(conv: Conversation, event: InboundEvent) -> tuple[str | None, bool]:
    """The dialog option a pressed button picks, and whether the button is no longer active.

    Buttons carry ``t:<token>``; a WhatsApp quick reply without our payload carries its label.
    Typed answers go through the answer router (:mod:`bot.routing`) instead.
    """
    data = event.button_data
    if data is None:
        return None, False
    if data.startswith(TOKEN_PREFIX):
        value = conv.state.get("tokens", {}).get(data[len(TOKEN_PREFIX) :])
        return value, value is None
    typed = texts.fold_label(event.text or data)
    for label, value in conv.state.get("options") or []:
        if texts.fold_label(label) == typed:
            return value, False
    return None, True


def new_token() -> str:
    """Eight random hex digits."""
    return secrets.token_hex(4)
