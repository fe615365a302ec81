"""The renderer's positional constructors of messages and options build what the dataclasses'
own constructors build (core.messages.positional_constructor, issue 20)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pytest

from core.messages import (
    Option,
    OutboundMessage,
    new_option,
    new_outbound_message,
    positional_constructor,
)


def _distinct_values(cls: type) -> list[Any]:
    """A value per field, each different, so a field set from the wrong argument shows."""
    return [f"{f.name}-value" for f in dataclasses.fields(cls)]


@pytest.mark.parametrize(
    ("cls", "construct"), [(Option, new_option), (OutboundMessage, new_outbound_message)]
)
def test_every_field_is_set_as_the_dataclass_sets_it(cls: type, construct: Any) -> None:
    values = _distinct_values(cls)
    built = construct(*values)
    expected = cls(*values)
    assert type(built) is cls
    assert built == expected
    for f, value in zip(dataclasses.fields(cls), values, strict=True):
        assert getattr(built, f.name) == value
    # Still frozen, still hashable where the dataclass is.
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.__setattr__(dataclasses.fields(cls)[0].name, "changed")
    if cls is Option:
        assert hash(built) == hash(expected)


def test_a_message_built_positionally_equals_one_built_with_keywords() -> None:
    options = (new_option("Taken", "d:ab:t"), new_option("Skip", "d:ab:k"))
    built = new_outbound_message(
        "text", "<b>text</b>", None, options, 1, "medication_reminder", {}, (), "id", ()
    )
    assert built == OutboundMessage(
        text="text",
        html="<b>text</b>",
        options=(Option(label="Taken", data="d:ab:t"), Option(label="Skip", data="d:ab:k")),
        kind="medication_reminder",
        message_id="id",
    )
    assert dataclasses.replace(built, subject="s").subject == "s"  # the dataclass as ever


def test_only_frozen_slotted_dataclasses_without_post_init_are_accepted() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclass(frozen=True, slots=True)
    class PostInit:
        a: int
        b: list[int] = field(default_factory=list)

        def __post_init__(self) -> None:
            pass

    for cls in (NoSlots, NotFrozen, PostInit, int):
        with pytest.raises(TypeError):
            positional_constructor(cls)
