"""The registry of dialog steps and commands, and the helpers steps use to move on.

A step has a ``prompt`` (the question and its options, shown on entering the step and again, after
a short error line, when the answer cannot be understood) and a ``handle`` for the answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.conversation import Turn, clear_options, forget_asked, mark_asked

Options = list[tuple[str, str]]
PromptFn = Callable[[Turn], Awaitable[tuple[str, Options]]]
HandleFn = Callable[[Turn], Awaitable[None]]
CommandFn = Callable[[Turn, str], Awaitable[None]]
# Whether a step reads this typed input itself (a time, a date, a name): a pure, cheap check the
# answer router (bot.routing) uses to decide which open question a text answers.
TypedFn = Callable[[Turn], bool]

IDLE = "idle"


@dataclass(frozen=True, slots=True)
class Step:
    """One question in a dialog."""

    name: str
    prompt: PromptFn
    handle: HandleFn
    typed: TypedFn | None = None  # None: the step takes its options only
    # Its options' labels are answers ``typed`` reads as they are (30, 60, 120 minutes): shown as
    # buttons where the channel has them, never as numbered replies (bot.conversation.Reply).
    typed_labels: bool = False
    # A word the step reads itself though it reads no other typed text: a command said without
    # its slash that means something else here ("pause" under the /meds list, which lists
    # pausing one medicine: bot.dialogs.medicine_pause). Not run as the command (bot.engine).
    words: TypedFn | None = None


STEPS: dict[str, Step] = {}


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command; ``needs_patient`` commands ask unregistered chats to /start first."""

    name: str
    run: CommandFn
    needs_patient: bool = True


COMMANDS: dict[str, Command] = {}


def step(
    name: str,
    prompt: PromptFn,
    *,
    typed: TypedFn | None = None,
    typed_labels: bool = False,
    words: TypedFn | None = None,
) -> Callable[[HandleFn], HandleFn]:
    """Register ``handle`` as the answer handler of step ``name``; ``typed``, ``typed_labels``
    and ``words``: see :class:`Step`."""

    def register(handle: HandleFn) -> HandleFn:
        STEPS[name] = Step(
            name=name,
            prompt=prompt,
            handle=handle,
            typed=typed,
            typed_labels=typed_labels,
            words=words,
        )
        return handle

    return register


def command(name: str, *, needs_patient: bool = True) -> Callable[[CommandFn], CommandFn]:
    """Register a ``/name`` command."""

    def register(run: CommandFn) -> CommandFn:
        COMMANDS[name] = Command(name=name, run=run, needs_patient=needs_patient)
        return run

    return register


async def goto(turn: Turn, name: str, *, prefix: str | None = None) -> None:
    """Move to step ``name`` and ask its question (after ``prefix``, if any)."""
    turn.conv.step = name
    current = STEPS[name]
    question, options = await current.prompt(turn)
    body = f"{prefix}\n\n{question}" if prefix else question
    turn.say(body, options, columns=columns_for(options), typed_labels=current.typed_labels)
    asked(turn)


async def reprompt(turn: Turn, key: str, **values: object) -> None:
    """A short error line with an example, the current step's options again; the step stays."""
    current = STEPS.get(turn.conv.step)
    options: Options = []
    if current is not None:
        _, options = await current.prompt(turn)
    typed_labels = current is not None and current.typed_labels
    turn.say(
        turn.t(key, **values), options, columns=columns_for(options), typed_labels=typed_labels
    )
    asked(turn)
    turn.reprompted = True


def asked(turn: Turn) -> None:
    """The dialog's question was (re)asked now: the newest for the answer router."""
    mark_asked(turn.conv, turn.now)


def columns_for(options: Options) -> int:
    """Two buttons per row for long menus of short labels (city and time picks)."""
    if len(options) > 4 and all(len(label) <= 18 for label, _ in options):
        return 2
    return 1


def finish(turn: Turn, *, keep_data: bool = False) -> None:
    """Back to idle, dropping what the dialog collected."""
    turn.conv.step = IDLE
    if not keep_data:
        turn.conv.state.pop("data", None)
    clear_options(turn.conv)
    forget_asked(turn.conv)
