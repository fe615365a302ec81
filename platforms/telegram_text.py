"""A message as Telegram takes it: HTML text in parts of at most 4,096 UTF-16 units, and an
inline keyboard whose ``callback_data`` fits Telegram's 64 bytes. Pure functions, no I/O.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from platforms.base import Option, OutboundMessage, PermanentError

MAX_TEXT_UNITS = 4096  # sendMessage text limit (UTF-16 code units)
MAX_CALLBACK_DATA_BYTES = 64


def message_html(message: OutboundMessage) -> str:
    """The HTML body: the template's (variables already escaped) or the escaped plain text."""
    if message.html is not None:
        return message.html
    return html.escape(message.text, quote=False)


def build_keyboard(options: Sequence[Option], columns: int = 1) -> InlineKeyboardMarkup | None:
    """An inline keyboard, ``columns`` buttons per row; refuses ``callback_data`` over 64 bytes."""
    if not options:
        return None
    _check_callback_data(options)
    width = max(1, columns)
    buttons = [InlineKeyboardButton(text=o.label, callback_data=o.data) for o in options]
    return InlineKeyboardMarkup([buttons[i : i + width] for i in range(0, len(buttons), width)])


def keyboard_json(options: Sequence[Option], columns: int = 1) -> dict[str, Any] | None:
    """:func:`build_keyboard` as the Bot API's ``reply_markup`` JSON object (same checks)."""
    if not options:
        return None
    _check_callback_data(options)
    width = max(1, columns)
    buttons = [{"text": o.label, "callback_data": o.data} for o in options]
    return {"inline_keyboard": [buttons[i : i + width] for i in range(0, len(buttons), width)]}


def _check_callback_data(options: Sequence[Option]) -> None:
    for option in options:
        size = len(option.data.encode("utf-8"))
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise PermanentError(
                f"callback_data is {size} bytes; Telegram allows 1 to {MAX_CALLBACK_DATA_BYTES}",
                code="callback_data_too_long",
            )


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` UTF-16 units, at the best boundary.

    Paragraphs first, then lines, then words; a hard cut never lands inside an HTML tag or entity.
    (An element spanning a paragraph break would be cut open; templates keep markup inline.)
    """
    parts: list[str] = []
    rest = text
    while utf16_units(rest) > limit:
        window = _prefix_within(rest, limit)
        cut, skip = -1, 0
        for separator in ("\n\n", "\n", " "):
            cut = rest.rfind(separator, 0, window + 1)
            if cut > 0:
                skip = len(separator)
                break
        if cut <= 0:
            cut, skip = _safe_hard_cut(rest, window), 0
        parts.append(rest[:cut].rstrip())
        rest = rest[cut + skip :].lstrip("\n")
    if rest.strip():
        parts.append(rest)
    return parts


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int) -> int:
    """The largest index ``i`` such that ``text[:i]`` fits in ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _safe_hard_cut(text: str, cut: int) -> int:
    opening = max(text.rfind("<", 0, cut), text.rfind("&", 0, cut))
    closing = max(text.rfind(">", 0, cut), text.rfind(";", 0, cut))
    return opening if opening > closing and opening > 0 else cut


__all__ = [
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_TEXT_UNITS",
    "build_keyboard",
    "keyboard_json",
    "message_html",
    "split_text",
    "utf16_units",
]
