"""The client's errors, sorted by whether the request may have reached the server (``sent``)."""

from __future__ import annotations


class HTTPClientError(Exception):
    """Base of the client's errors; ``sent`` says whether the request may have left us."""

    sent = False


class Timeout(HTTPClientError):
    """A timeout of any phase."""


class PoolTimeout(Timeout):
    """Every connection of the origin stayed busy for the pool timeout; nothing was sent."""


class ConnectTimeout(Timeout):
    """The TCP (or TLS) connection was not established in time; nothing was sent."""


class WriteTimeout(Timeout):
    """The request could not be written in time; part of it may have been sent."""

    sent = True


class ReadTimeout(Timeout):
    """The server sent nothing for the read timeout while we waited for the response."""

    sent = True


class TransportError(HTTPClientError):
    """The connection failed or the server broke the protocol."""


class ConnectError(TransportError):
    """The connection could not be made (refused, unreachable, TLS failure); nothing was sent."""


class RemoteProtocolError(TransportError):
    """The server closed the connection early or answered with something that is not HTTP/1.1."""

    sent = True


class ClientClosed(TransportError):
    """The client was closed before or while the request ran."""
