"""The files of a bot reply (a /stats chart, an /export CSV), stored so a retry sends them too.

A turn that attaches files writes them beside its reply row, in the turn's transaction
(:func:`store_files`, from :func:`bot.reply_rows.store_replies`); the row's payload says how
many (``files``). The web process sends the reply from memory at once; when it cannot, the
dispatcher rebuilds the message with :func:`load_files` right before its send. The files are
deleted once the row is final (sent, failed, expired, cancelled) or deleted (retention,
erasure): table ``reply_files``, migration 20260101010300. No clinician reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from core.sql import query

# A file, at most: Telegram's limit for a photo (a document may be larger; nothing we send is).
# The table's CHECK holds the same number.
MAX_FILE_BYTES = 10 * 1024 * 1024
# Files of one reply, at most (the table's position is 0-9).
MAX_FILES = 10

Attachment = tuple[str, str, bytes]  # (file name, content type, bytes)


class ReplyFileTooLarge(ValueError):
    """A reply's file is over :data:`MAX_FILE_BYTES`; the dialog should have said so instead."""


def fits(attachment: Attachment) -> bool:
    """Whether ``attachment`` can be stored with its reply (and so retried)."""
    return len(attachment[2]) <= MAX_FILE_BYTES


def check_files(attachments: Sequence[Attachment]) -> None:
    """Raise :class:`ReplyFileTooLarge` naming the limit when ``attachments`` cannot be stored."""
    if len(attachments) > MAX_FILES:
        raise ReplyFileTooLarge(
            f"a reply carries at most {MAX_FILES} files, not {len(attachments)}"
        )
    for name, _, data in attachments:
        if len(data) > MAX_FILE_BYTES:
            raise ReplyFileTooLarge(
                f"file {name!r} is {len(data)} bytes; a reply's file is at most"
                f" {MAX_FILE_BYTES} bytes (core/reply_files.py MAX_FILE_BYTES)"
            )


async def store_files(
    conn: asyncpg.Connection, files: Sequence[tuple[UUID, Sequence[Attachment]]]
) -> None:
    """Store each message's files, ``(message id, attachments)`` each, in one statement; call
    in the transaction that inserted the messages."""
    rows = [(mid, n, *a) for mid, attachments in files for n, a in enumerate(attachments)]
    if rows:
        await conn.execute(
            query("reply_files", "store"),
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
            [r[4] for r in rows],
        )


async def load_files(
    conn: asyncpg.Connection | asyncpg.Pool, message_id: UUID
) -> tuple[Attachment, ...]:
    """The files stored with message ``message_id``, in order (none once it is final)."""
    rows = await conn.fetch(query("reply_files", "load"), message_id)
    return tuple((r["filename"], r["content_type"], bytes(r["data"])) for r in rows)
