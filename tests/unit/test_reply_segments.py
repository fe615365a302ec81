"""A reply too long for the SMS sender's segment cap is split; its options and files go once."""

from __future__ import annotations

from bot.reply_rows import fit_segments
from platforms.base import Option, OutboundMessage
from platforms.sms import SmsSender


async def test_a_long_reply_is_split_with_its_options_and_files_on_the_last_part() -> None:
    sender = SmsSender("AC" + "0" * 32, "token", from_number="+15550000000", max_segments=1)
    try:
        text = " ".join(f"Sentence number {n} of a long answer." for n in range(12))
        files = (("doses.csv", "text/csv", b"a,b\n"),)
        message = OutboundMessage(text=text, options=(Option("Menu", "m"),), attachments=files)
        parts = fit_segments(sender, message)
    finally:
        await sender.aclose()
    assert len(parts) > 1
    assert " ".join(p.text for p in parts).split() == text.split()
    assert [p.attachments for p in parts] == [()] * (len(parts) - 1) + [files]
    assert [p.options for p in parts] == [()] * (len(parts) - 1) + [message.options]
