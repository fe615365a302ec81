"""Fitting a message with options into a Twilio ``twilio/quick-reply`` content (pure functions).

The limits, from Twilio's docs (https://www.twilio.com/docs/content/twilio-quick-reply and
https://www.twilio.com/docs/content/using-variables-with-content-api):

- ``body``: up to 1,024 characters; variables allowed.
- ``actions``: 1 to 10 buttons, but an in-session WhatsApp message (no template approval) may
  carry only **3**.
- ``actions[].title``: up to **20** characters; variables allowed for in-session messages. It comes
  back in the inbound ``Body`` and ``ButtonText`` when the button is pressed.
- ``actions[].id``: up to **200** characters; variables allowed. It comes back unchanged in the
  inbound ``ButtonPayload``.
- variables: at most 100 per content, keys up to 16 characters, values up to **255** characters.

Since titles and ids may be variables in session, one content per *layout* serves every message:
``n`` buttons and a body split into ``k`` parts of at most 255 characters, everything passed in
``ContentVariables``. The variables are numbered: ``{{1}}``..``{{k}}`` are the body parts, then each
button takes two numbers, its title and its id. At most 3 x 5 layouts exist (a 1,024-character body
needs 5 parts), so contents are created a handful of times per Twilio account, ever.

:func:`plan_quick_reply` says whether a message fits, and if not, why (a short reason code that
carries no text of the message, safe to log and store).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from platforms.base import Option

MAX_SESSION_BUTTONS = 3  # in-session WhatsApp quick replies (10 only with an approved template)
MAX_TITLE_CHARS = 20
MAX_ID_CHARS = 200
MAX_BODY_CHARS = 1024
MAX_VARIABLE_CHARS = 255
# A label up to twice the title limit is shortened with an ellipsis; a longer one would lose most
# of its meaning on the button (and may name a medicine), so the message goes as numbered text.
MAX_TRUNCATED_LABEL_CHARS = 2 * MAX_TITLE_CHARS
ELLIPSIS = "\u2026"
CONTENT_LANGUAGE = "en"  # the content holds no words of its own: every text is a variable
LAYOUT_VERSION = 1  # bump when the content shape changes, so new contents are created

# Why a message went as numbered text instead of buttons (stored in the receipt, logged).
TOO_MANY_OPTIONS = "too_many_options"
LABEL_TOO_LONG = "label_too_long"
EMPTY_LABEL = "empty_label"
TITLES_NOT_UNIQUE = "titles_not_unique"
DATA_TOO_LONG = "data_too_long"
BODY_TOO_LONG = "body_too_long"
EMPTY_BODY = "empty_body"


@dataclass(frozen=True, slots=True)
class Layout:
    """A quick-reply content shape: ``buttons`` buttons and a body in ``body_parts`` variables."""

    buttons: int
    body_parts: int

    @property
    def key(self) -> str:
        """Stable name of the layout, the cache and database key."""
        return f"qr{self.buttons}b{self.body_parts}p_v{LAYOUT_VERSION}"

    @property
    def friendly_name(self) -> str:
        """The Content resource's ``friendly_name`` (not shown to the patient)."""
        return f"medremind_quick_reply_{self.key}"

    def title_key(self, index: int) -> str:
        """Variable number of button ``index``'s title (0-based)."""
        return str(self.body_parts + 2 * index + 1)

    def id_key(self, index: int) -> str:
        """Variable number of button ``index``'s id (0-based)."""
        return str(self.body_parts + 2 * index + 2)

    def create_request(self) -> dict[str, Any]:
        """The JSON body of ``POST https://content.twilio.com/v1/Content`` for this layout.

        ``variables`` are the defaults Twilio falls back to for a variable missing at send time;
        every send passes all of them, so they are placeholders only.
        """
        body = "".join(f"{{{{{n}}}}}" for n in range(1, self.body_parts + 1))
        actions = [
            {"title": f"{{{{{self.title_key(i)}}}}}", "id": f"{{{{{self.id_key(i)}}}}}"}
            for i in range(self.buttons)
        ]
        samples = {str(n): "Message" for n in range(1, self.body_parts + 1)}
        for i in range(self.buttons):
            samples[self.title_key(i)] = f"Option {i + 1}"
            samples[self.id_key(i)] = f"option_{i + 1}"
        return {
            "friendly_name": self.friendly_name,
            "language": CONTENT_LANGUAGE,
            "variables": samples,
            "types": {"twilio/quick-reply": {"body": body, "actions": actions}},
        }


@dataclass(frozen=True, slots=True)
class QuickReplyPlan:
    """A message that fits: its layout and the ``ContentVariables`` to send with it."""

    layout: Layout
    variables: dict[str, str]
    titles: tuple[str, ...]


def plan_quick_reply(text: str, options: Sequence[Option]) -> QuickReplyPlan | str:
    """The quick reply for ``text`` with ``options``, or the reason code why it does not fit."""
    if len(options) > MAX_SESSION_BUTTONS:
        return TOO_MANY_OPTIONS
    if not text.strip():
        return EMPTY_BODY
    if len(text) > MAX_BODY_CHARS:
        return BODY_TOO_LONG
    titles: list[str] = []
    for option in options:
        title = fit_title(option.label)
        if isinstance(title, str):
            return title
        titles.append(title.text)
        if not option.data or len(option.data) > MAX_ID_CHARS:
            return DATA_TOO_LONG
    # WhatsApp requires distinct titles; shortening may have made two labels the same.
    if len({t.casefold() for t in titles}) != len(titles):
        return TITLES_NOT_UNIQUE
    parts = split_body(text)
    layout = Layout(buttons=len(options), body_parts=len(parts))
    variables = {str(n): part for n, part in enumerate(parts, start=1)}
    for i, (title, option) in enumerate(zip(titles, options, strict=True)):
        variables[layout.title_key(i)] = title
        variables[layout.id_key(i)] = option.data
    return QuickReplyPlan(layout=layout, variables=variables, titles=tuple(titles))


@dataclass(frozen=True, slots=True)
class _Title:
    text: str


def fit_title(label: str) -> _Title | str:
    """``label`` as a button title of at most 20 characters, or a reason code.

    Whitespace runs (newlines too) become one space. A label over the limit, up to
    :data:`MAX_TRUNCATED_LABEL_CHARS`, is cut at a word boundary when one keeps at least half the
    room, never inside a combining sequence, and ends with an ellipsis.
    """
    clean = " ".join(label.split())
    if not clean:
        return EMPTY_LABEL
    if len(clean) <= MAX_TITLE_CHARS:
        return _Title(clean)
    if len(clean) > MAX_TRUNCATED_LABEL_CHARS:
        return LABEL_TOO_LONG
    room = MAX_TITLE_CHARS - len(ELLIPSIS)
    cut = clean[:room]
    space = cut.rfind(" ")
    if space >= room // 2:
        cut = cut[:space]
    # Do not leave a base character without its accent, or a joiner without what it joins.
    while cut and unicodedata.combining(clean[len(cut)]) and len(cut) > 1:
        cut = cut[:-1]
    cut = cut.rstrip(" \u200d")
    return _Title(cut + ELLIPSIS)


def split_body(text: str, size: int = MAX_VARIABLE_CHARS) -> list[str]:
    """``text`` in consecutive parts of at most ``size`` characters, joined back exactly.

    A cut is moved back (up to a quarter of ``size``) so no part starts or ends with whitespace,
    which a provider might trim from a variable's value, and no combining mark is separated from
    its base character.
    """
    parts: list[str] = []
    rest = text
    while len(rest) > size:
        cut = size
        floor = size - size // 4
        while cut > floor and (
            rest[cut - 1].isspace() or rest[cut].isspace() or unicodedata.combining(rest[cut])
        ):
            cut -= 1
        if cut == floor:  # no clean place nearby: cut at the limit
            cut = size
        parts.append(rest[:cut])
        rest = rest[cut:]
    parts.append(rest)
    return parts


__all__ = [
    "BODY_TOO_LONG",
    "DATA_TOO_LONG",
    "EMPTY_BODY",
    "EMPTY_LABEL",
    "LABEL_TOO_LONG",
    "MAX_BODY_CHARS",
    "MAX_ID_CHARS",
    "MAX_SESSION_BUTTONS",
    "MAX_TITLE_CHARS",
    "MAX_VARIABLE_CHARS",
    "TITLES_NOT_UNIQUE",
    "TOO_MANY_OPTIONS",
    "Layout",
    "QuickReplyPlan",
    "fit_title",
    "plan_quick_reply",
    "split_body",
]
