"""Building e-mail messages, shared by the SMTP adapter and the outbox (no SDK imports here)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from platforms.base import OutboundMessage


def message_id_for(message: OutboundMessage, domain: str) -> str:
    """A ``Message-ID``: stable per our message id, so a retried send is recognisably the same."""
    if message.message_id:
        return f"<{message.message_id}@{domain}>"
    return make_msgid(domain=domain)


def build_email(
    message: OutboundMessage,
    *,
    to: str,
    from_address: str,
    unsubscribe_url: str | None = None,
    unsubscribe_mailto: str | None = None,
) -> EmailMessage:
    """A multipart e-mail: plain text and HTML alternatives, attachments, ``List-Unsubscribe``.

    ``unsubscribe_url`` may contain ``{message_id}``; it is also advertised for one-click
    unsubscribe (RFC 8058) with ``List-Unsubscribe-Post``.
    """
    domain = from_address.rpartition("@")[2].strip(">") or "localhost"
    email = EmailMessage()
    email["Subject"] = message.subject or (message.text.splitlines() or [""])[0][:120]
    email["From"] = from_address
    email["To"] = to
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id_for(message, domain)
    targets = []
    if unsubscribe_mailto:
        targets.append(f"<mailto:{unsubscribe_mailto}?subject=unsubscribe>")
    if unsubscribe_url:
        targets.append(f"<{unsubscribe_url.format(message_id=message.message_id or '')}>")
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if targets:
        email["List-Unsubscribe"] = ", ".join(targets)
    email["Auto-Submitted"] = "auto-generated"  # keeps out-of-office replies away
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    for filename, content_type, data in message.attachments:
        maintype, _, subtype = content_type.partition("/")
        email.add_attachment(
            data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename
        )
    return email
