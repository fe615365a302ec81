"""What a message is, for every layer: its channel, its options and its rendered form.

Template rendering (``core``) builds :class:`OutboundMessage`; the channel adapters
(``platforms``, which re-export these names from ``platforms.base``) send it.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

_T = TypeVar("_T")


class Channel(enum.StrEnum):
    """A delivery channel. ``auto`` is only valid on a message: it means the patient's order."""

    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    CONSOLE = "console"
    WEBPUSH = "webpush"  # a Web Push subscription per device of the patient app
    WEBSOCKET = "websocket"  # live delivery to the patient app while it is open


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered to the patient: a Telegram button, a WhatsApp button, a numbered SMS reply.

    ``data`` is compact (at most 64 bytes, Telegram's ``callback_data`` limit): e.g. ``t:ab12cd34``.
    """

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A rendered message ready for one channel.

    ``text`` is plain text with the variables already substituted; ``html`` is the Telegram/e-mail
    rendering when the template has one. ``options`` are laid out one per row unless ``columns``.
    """

    text: str
    html: str | None = None
    subject: str | None = None
    options: tuple[Option, ...] = ()
    columns: int = 1
    kind: str = "free_text"
    # Template variables, for channels that must send an approved template (WhatsApp outside 24 h):
    # a built-in or clinician render fills them for WhatsApp only (empty on other channels).
    variables: dict[str, str] = field(default_factory=dict)
    # Attachments: (filename, content type, bytes); used for /stats charts and /export CSVs.
    attachments: tuple[tuple[str, str, bytes], ...] = ()
    # Our own id, sent as metadata where the provider allows (e-mail Message-ID, Twilio callback).
    message_id: str | None = None
    # The typed replies the text itself asks for, one per option ("1/C", "2/R", "3/X"): the options
    # are then not appended as numbered replies (the SMS appointment texts), yet stay known, so
    # the question the message asks is recorded with the answers it shows.
    reply_keys: tuple[str, ...] = ()

    @property
    def numbered_options(self) -> tuple[Option, ...]:
        """The options a text channel appends as numbered replies (none when the text asks)."""
        return () if self.reply_keys else self.options


def positional_constructor(cls: type[_T]) -> Callable[..., _T]:
    """A constructor of the frozen, slotted dataclass ``cls`` taking every field positionally,
    in the order of :func:`dataclasses.fields`: the same object as ``cls(*values)``, built
    several times faster.

    Why: a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (it
    must get past the class's own refusal), and a call with keywords matches each one by name:
    an :class:`OutboundMessage` cost ~1.5-4 us and each :class:`Option` ~0.5-1 us of every
    reminder at 08:00 on the worker (issue 20). The slots' own descriptors set them directly.
    No ``__post_init__`` or default is run: the caller passes every field. The source is made
    of the fields' names only (identifiers); tests/unit/test_messages_constructors.py holds it
    to the dataclass's own constructor.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls):
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__ this constructor would skip")
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    scope: dict[str, Any] = {"__builtins__": {}, "_new": object.__new__, "_cls": cls}
    lines = [f"def construct({', '.join(names)}):", "    self = _new(_cls)"]
    for name in names:
        scope[f"_set_{name}"] = vars(cls)[name].__set__
        lines.append(f"    _set_{name}(self, {name})")
    lines.append("    return self")
    exec(compile("\n".join(lines) + "\n", f"<constructor of {cls.__name__}>", "exec"), scope)  # noqa: S102
    construct: Callable[..., _T] = scope["construct"]
    construct.__doc__ = f"{cls.__name__}({', '.join(names)}), every field given positionally."
    return construct


# The renderer's constructors (core.templating): every field, positionally.
new_option = positional_constructor(Option)
new_outbound_message = positional_constructor(OutboundMessage)


__all__ = ["Channel", "Option", "OutboundMessage", "new_option", "new_outbound_message"]
