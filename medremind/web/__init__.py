"""The web process's ASGI app: webhooks, the public API, health and metrics.

``create_app(settings, *, database=None, senders=None, clock=None)`` builds it; see
:mod:`medremind.web.app`.
"""

from medremind.web.app import create_app

__all__ = ["create_app"]
