"""The names an operation knows at a place of its request: the fields of the (nested) body object
an unknown field was found in, or the operation's query parameters.

:mod:`medremind.web.api_v1.problems` uses them to say what a client probably meant
(:mod:`core.near_miss`); they come from the same pydantic models that validate the request, so
the hint can never name a field the operation does not take.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

VALIDATOR_LAYERS = ("function-", "json-or-python")  # pydantic's names, not the client's


def known_names(route: Any, loc: Sequence[Any]) -> list[str]:
    """The names known beside the last part of ``loc`` (pydantic's error location, its source
    first: ``("body", "schedule", "times")``) in ``route``'s request; empty when unknown."""
    if not isinstance(route, APIRoute) or len(loc) < 2:
        return []
    source = loc[0]
    # pydantic's names for validator layers are no part of the client's document.
    parent = [p for p in loc[1:-1] if not (isinstance(p, str) and p.startswith(VALIDATOR_LAYERS))]
    if source == "query" and not parent:
        return sorted(set(query_names(route.dependant)))
    if source != "body" or route.body_field is None:
        return []
    annotation: Any = route.body_field.field_info.annotation
    for part in parent:
        annotation = _descend(annotation, part)
        if annotation is None:
            return []
    model = _model(annotation)
    return [] if model is None else _field_names(model)


def query_names(dependant: Dependant) -> Iterator[str]:
    """The query parameters ``dependant`` (an operation, its dependencies included) takes."""
    for field in dependant.query_params:
        model = _model(field.field_info.annotation)
        yield from _field_names(model) if model is not None else [field.alias]
    for sub in dependant.dependencies:
        yield from query_names(sub)


def _field_names(model: type[BaseModel]) -> list[str]:
    """The names a client writes: a field's alias where it has one (``from``)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _members(annotation: Any) -> list[Any]:
    """``annotation`` without ``Annotated`` and ``Optional``: the union's members, or itself."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for a in get_args(annotation) for m in _members(a) if m is not type(None)]
    return [annotation]


def _model(annotation: Any) -> type[BaseModel] | None:
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _descend(annotation: Any, part: Any) -> Any:
    """The type at ``part`` (a field name, a list index, a dict key) inside ``annotation``."""
    for member in _members(annotation):
        origin = get_origin(member)
        if isinstance(part, int) and origin in (list, tuple, set, frozenset):
            return get_args(member)[0]
        if origin is dict and isinstance(part, str):
            return get_args(member)[1]
        if isinstance(member, type) and issubclass(member, BaseModel) and isinstance(part, str):
            if part == member.__name__:  # pydantic names the union member it tried
                return member
            for name, info in member.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
    return None
