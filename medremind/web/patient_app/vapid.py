"""The web process's VAPID key (Web Push), parsed once from ``VAPID_PRIVATE_KEY``.

Its own module because both the subscription routes (``push``) and the day view (``today``, which
hands the public key to the app) need it, and ``push`` already uses ``today``.
"""

from __future__ import annotations

import functools

from core.settings import Settings
from platforms.webpush import VapidKey


@functools.lru_cache(maxsize=4)
def _vapid(secret: str) -> VapidKey | None:
    try:
        return VapidKey.parse(secret)
    except ValueError:
        return None


def vapid_key(settings: Settings) -> VapidKey | None:
    """The configured VAPID key (parsed once), or None without a usable one."""
    if settings.vapid_private_key is None or not settings.vapid_subject:
        return None
    return _vapid(settings.vapid_private_key.get_secret_value())


__all__ = ["vapid_key"]
