"""Which methods a path takes, over every route at that path, for ``Allow`` and ``OPTIONS``.

Starlette answers a method a path does not take with the ``Allow`` of the first route whose path
matched: ``/api/v1/patients`` has one route for POST and another for GET, so a DELETE was told
``Allow: POST`` and an integrator's ``OPTIONS`` learnt nothing true. :class:`MethodTable` holds
every route's path pattern and methods; the 405 handler (:mod:`medremind.web.errors`) asks it for
the union at the request's path, and answers ``OPTIONS`` itself (204, no key needed: the methods
of a path are what the public API document says anyway).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.routing import compile_path


@dataclass(frozen=True)
class MethodTable:
    """Path patterns (as routes write them, ``/patients/{patient_id}``) and their methods."""

    routes: tuple[tuple[re.Pattern[str], frozenset[str]], ...]

    @classmethod
    def of(cls, routes: Iterable[tuple[str, Iterable[str]]]) -> MethodTable:
        """The table of ``(path, methods)`` pairs; a path may come more than once."""
        return cls(tuple((compile_path(path)[0], frozenset(methods)) for path, methods in routes))

    def allowed(self, path: str) -> list[str]:
        """The methods some route at ``path`` takes, plus OPTIONS; sorted (empty: no route)."""
        methods: set[str] = set()
        for pattern, route_methods in self.routes:
            if pattern.match(path):
                methods |= route_methods
        return sorted(methods | {"OPTIONS"}) if methods else []
