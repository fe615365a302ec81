"""Why a request's API key was refused (the 401's reason), from the request alone.

What the request shows is named (no key, the key in another header, ``Bearer`` missing, another
scheme, a value that is no key of ours), with how to send it; a well-formed key the service does
not take is one answer whether it never existed or was revoked, so a 401 tells nobody which keys
exist. The key's secret is never repeated.
"""

from __future__ import annotations

from collections.abc import Mapping

from medremind.api_keys import KEY_SCHEME, key_prefix

# Headers other APIs read a key from: a key sent there is one this API never sees.
_OTHER_KEY_HEADERS = ("x-api-key", "api-key", "apikey", "x-auth-token")
_SEND_IT = "send the header Authorization: Bearer <key>"


def refusal_reason(headers: Mapping[str, str]) -> str:
    """The reason of the 401 for a request whose ``Authorization`` header gave no usable key."""
    header = (headers.get("authorization") or "").strip()
    if not header:
        other = next((name for name in _OTHER_KEY_HEADERS if name in headers), None)
        if other is not None:
            return f"the API key goes in the Authorization header as Bearer <key>, not in {other}"
        return (
            f"no API key: {_SEND_IT} (the service's operator makes keys: medremind apikey create)"
        )
    scheme, _, rest = header.partition(" ")
    if scheme.startswith(f"{KEY_SCHEME}_"):
        return "Authorization must read 'Bearer <key>': the word Bearer is missing"
    if scheme.lower() != "bearer":
        shown = scheme[:20] if scheme.isalnum() else "something else"
        return f"Authorization must read 'Bearer <key>', not '{shown} ...'"
    if key_prefix(header) is None or len(rest.split()) != 1:
        return (
            f"is not a MedRemind API key: keys read {KEY_SCHEME}_<12 characters>_<secret>, as"
            " medremind apikey create printed it, whole, without quotes or spaces"
        )
    return (
        "this API key is not known, or was revoked: ask the service's operator for a new one"
        " (medremind apikey list shows each key's prefix and whether it was revoked)"
    )
