"""``/api/v1``: the JSON API for clinics' own systems, authenticated by per-organization API keys.

A FastAPI application (:mod:`medremind.web.api_v1.application`) mounted at ``/api/v1`` inside
the Starlette web app. Every handler takes the organization from the key and filters every query
by it; a row of another organization is indistinguishable from a missing one (404).
"""
