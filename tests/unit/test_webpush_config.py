"""Web Push configuration: VAPID settings checked and explained, a dev key kept across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings
from medremind.dev import dev_vapid_settings
from platforms.base import Channel
from platforms.registry import build_senders, channel_status
from platforms.webpush import VapidKey, WebPushSender


def test_webpush_needs_a_key_and_a_subject(tmp_path: Path) -> None:
    settings = load_settings({"MEDREMIND_DATA_DIR": str(tmp_path)})
    usable, why = channel_status(settings)[Channel.WEBPUSH]
    assert not usable
    assert why.startswith("VAPID_PRIVATE_KEY and VAPID_SUBJECT not set")
    # Not configured: no sender (routing skips the channel; nothing goes to an outbox).
    assert Channel.WEBPUSH not in build_senders(settings, database=object())  # type: ignore[arg-type]


def test_a_key_that_does_not_parse_is_named_not_shown(tmp_path: Path) -> None:
    settings = load_settings(
        {"VAPID_PRIVATE_KEY": "c2VjcmV0LWJ1dC13cm9uZw", "VAPID_SUBJECT": "mailto:a@b.example"}
    )
    usable, why = channel_status(settings)[Channel.WEBPUSH]
    assert not usable and "VAPID_PRIVATE_KEY is not a P-256 private key" in why
    assert "c2VjcmV0" not in why


def test_subject_must_be_mailto_or_https() -> None:
    with pytest.raises(SettingsError, match="VAPID_SUBJECT"):
        load_settings({"VAPID_SUBJECT": "ops@clinic.example"})


async def test_configured_webpush_builds_a_sender(tmp_path: Path) -> None:
    key = VapidKey.generate()
    settings = load_settings(
        {"VAPID_PRIVATE_KEY": key.private_text(), "VAPID_SUBJECT": "https://clinic.example"}
    )
    usable, why = channel_status(settings)[Channel.WEBPUSH]
    assert usable and key.application_server_key[:12] in why
    senders = build_senders(settings, database=object())  # type: ignore[arg-type]
    try:
        assert isinstance(senders[Channel.WEBPUSH], WebPushSender)
    finally:
        for sender in senders.values():
            await sender.aclose()


def test_dev_generates_a_key_once_into_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings({"MEDREMIND_DATA_DIR": str(tmp_path)})
    first = dev_vapid_settings(settings)
    path = tmp_path / "vapid_private_key"
    assert path.stat().st_mode & 0o077 == 0  # private to the service's user
    assert first["vapid_subject"] == "mailto:medremind@localhost"
    again = dev_vapid_settings(settings)
    assert again["vapid_private_key"] == first["vapid_private_key"]
    # A configured key is left alone.
    configured = load_settings(
        {
            "MEDREMIND_DATA_DIR": str(tmp_path / "other"),
            "VAPID_PRIVATE_KEY": VapidKey.generate().private_text(),
            "VAPID_SUBJECT": "mailto:ops@clinic.example",
        }
    )
    assert dev_vapid_settings(configured) == {}
    assert not (tmp_path / "other" / "vapid_private_key").exists()
