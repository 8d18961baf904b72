"""The budget of one evaluation: how many steps it may take, how much it may build, how long it may run.

Every evaluation gets one budget, shared by everything it does (each call, each loop, each regular
expression); exceeding any part raises FeelEvaluationError naming the limit, which the engine turns
into an incident. The limits are these constants:

- ``MAX_ITERATIONS`` steps. A loop (``for``, ``some``/``every``, a filter) spends a step per item, a
  user function one per call; comparing lists or contexts spends one per item compared, and
  ``distinct values``, ``duplicate values`` and ``union`` one per pair of items they compare.
- ``MAX_ALLOCATION`` (16 MiB) of size, counted with the table below as a total that never goes
  down: every string, list and context the evaluation builds is charged. Where the size is known first
  (string concatenation, ``partition``, ``get entries``, ``from json``) it is charged before building;
  elsewhere (function results, ``for`` results) right after, which the single-value limits
  ``MAX_STRING_LENGTH`` and ``MAX_LIST_SIZE``, checked before building, keep small. So an evaluation
  builds at most about ``MAX_ALLOCATION`` plus one largest value. Not charged, because something else
  bounds them: literal lists and contexts outside loops and functions (the source), filter results (a
  step per item kept), ranges (never materialised).
- ``MAX_EVALUATION_SECONDS`` (1 s), checked at every regular expression (which gets the time left, at
  most ``REGEX_TIMEOUT``, as its own timeout), every ``CHECKPOINT_STEPS`` steps, every
  ``CHECKPOINT_STEPS`` items of a loop and now and then while sorting or writing out a long text. The
  clock starts at the first checkpoint, so an evaluation that reaches none never reads it; what runs
  before the first is less than ``CHECKPOINT_STEPS`` steps.

The size table, roughly what CPython (64-bit) takes: a string 48 + 1 per character, a list 56 + 8 per
item, a context 64 + 48 per entry. Numbers, booleans, temporals and functions are not charged: each is
at most about 100 bytes, and only lists and contexts, whose slots are charged, keep many of them. A
list of a million decimals is therefore charged 8 MB for about 110 MB; the step limit is what keeps such
lists from growing further.

Determinism: the engine never reads a clock for a result, and this package never reads one at all.
The time budget needs a clock passed in (``monotonic``, seconds; the broker passes ``time.monotonic``
through ``Engine``); without one only the per-call regular expression timeout applies. The clock may
only make an evaluation give up, never change its value; giving up is an incident written to the log,
and replay applies logged events without evaluating expressions again, so a replaying partition reaches
the same state however fast or slow it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from ._errors import FeelEvaluationError
from ._scope import Scope

__all__ = [
    "CHECKPOINT_STEPS",
    "CONTEXT_ENTRY_SIZE",
    "CONTEXT_SIZE",
    "LIST_ITEM_SIZE",
    "LIST_SIZE",
    "MAX_ALLOCATION",
    "MAX_EVALUATION_SECONDS",
    "MAX_ITERATIONS",
    "MAX_LIST_SIZE",
    "MAX_STRING_LENGTH",
    "REGEX_TIMEOUT",
    "STRING_SIZE",
    "EvaluationBudget",
    "Monotonic",
    "StepBudget",
    "allocation_exceeded",
    "check_list_size",
    "check_string_length",
    "time_exceeded",
]

Monotonic = Callable[[], float]
T = TypeVar("T")

MAX_ITERATIONS = 1_000_000
MAX_ALLOCATION = 16 * 1024 * 1024
# A record holds at most the broker's max_message_size (4 MiB by default), and JSON takes at least a
# byte per character: no variable can hold a longer string, and every string a variable holds fits.
MAX_STRING_LENGTH = 4 * 1024 * 1024
MAX_LIST_SIZE = 1_000_000
MAX_EVALUATION_SECONDS = 1.0
REGEX_TIMEOUT = 0.25  # at most, per call: one match that long is runaway backtracking
CHECKPOINT_STEPS = 1024  # a power of two (spend relies on it)

STRING_SIZE = 48
LIST_SIZE = 56
LIST_ITEM_SIZE = 8
CONTEXT_SIZE = 64
CONTEXT_ENTRY_SIZE = 48

_MIB = 1024 * 1024


def check_list_size(size: int) -> None:
    if size > MAX_LIST_SIZE:
        raise FeelEvaluationError(
            f"a list of {size} items exceeds the limit of {MAX_LIST_SIZE} items per list; reduce the input"
            " or the range"
        )


def check_string_length(size: int) -> None:
    if size > MAX_STRING_LENGTH:
        raise FeelEvaluationError(
            f"a string of {size} characters exceeds the limit of {MAX_STRING_LENGTH} characters per string;"
            " build shorter strings"
        )


def allocation_exceeded() -> FeelEvaluationError:
    return FeelEvaluationError(
        f"evaluation used more than {MAX_ALLOCATION // _MIB} MiB (strings, lists and contexts it built);"
        " build smaller values, or fewer of them"
    )


def time_exceeded() -> FeelEvaluationError:
    return FeelEvaluationError(
        f"evaluation took longer than {MAX_EVALUATION_SECONDS:g} s (regular expressions included); iterate"
        " over less, or use simpler patterns"
    )


class StepBudget(Protocol):
    """What work outside the compiled tree reports to: an evaluation's budget, or a one-off count for a
    call made outside any evaluation."""

    def spend(self, count: int) -> None: ...

    def check_time(self) -> None: ...


class EvaluationBudget(Scope):
    """What one evaluation has spent; its root scope is one (``_compiler.Root``), so that the
    counters sit where every compiled node already looks (``scope.root``).

    The root starts with ``steps = allocated = 0``, ``deadline = None`` and its clock in ``monotonic``.
    """

    __slots__ = ("steps", "allocated", "monotonic", "deadline")

    steps: int
    allocated: int
    monotonic: Monotonic | None
    deadline: float | None

    def spend(self, count: int) -> None:
        """Take ``count`` steps; every ``CHECKPOINT_STEPS`` steps is also a time checkpoint."""
        before = self.steps
        steps = self.steps = before + count
        if steps > MAX_ITERATIONS:
            raise FeelEvaluationError(
                f"evaluation exceeded {MAX_ITERATIONS} iteration steps; "
                "reduce the size of the lists or ranges it iterates"
            )
        if before ^ steps >= CHECKPOINT_STEPS:  # crossed a multiple of it (a power of two)
            self.check_time()

    def charge(self, size: int) -> None:
        """Count ``size`` units built (before building, where the size is known)."""
        allocated = self.allocated = self.allocated + size
        if allocated > MAX_ALLOCATION:
            raise allocation_exceeded()

    def charge_value(self, value: Any) -> None:
        """Count a value just built (a string, list or context; other values cost nothing)."""
        t = type(value)
        if t is str:
            size = len(value)
            if size > MAX_STRING_LENGTH:
                check_string_length(size)
            size += STRING_SIZE
        elif t is list:
            size = len(value)
            if size > MAX_LIST_SIZE:
                check_list_size(size)
            size = LIST_SIZE + LIST_ITEM_SIZE * size
        elif t is dict:
            size = CONTEXT_SIZE + CONTEXT_ENTRY_SIZE * len(value)
        else:
            return
        allocated = self.allocated = self.allocated + size
        if allocated > MAX_ALLOCATION:
            raise allocation_exceeded()

    def check_time(self) -> None:
        """A time checkpoint: the first one starts the clock."""
        monotonic = self.monotonic
        if monotonic is None:
            return
        now = monotonic()
        if self.deadline is None:
            self.deadline = now + MAX_EVALUATION_SECONDS
        elif now > self.deadline:
            raise time_exceeded()

    def regex_timeout(self) -> float:
        """A time checkpoint that returns how long the next regular expression may run."""
        monotonic = self.monotonic
        if monotonic is None:
            return REGEX_TIMEOUT
        now = monotonic()
        if self.deadline is None:
            self.deadline = now + MAX_EVALUATION_SECONDS
        left = self.deadline - now
        if left <= 0:
            raise time_exceeded()
        return min(left, REGEX_TIMEOUT)

    def paced(self, items: Sequence[T]) -> Iterator[T]:
        """``items``, with a time checkpoint every ``CHECKPOINT_STEPS`` of them.

        A loop over more items than that iterates ``root.paced(items)`` instead, so that one long loop
        cannot outrun the time budget between two of its steps (shorter loops skip the generator)."""
        for start in range(0, len(items), CHECKPOINT_STEPS):
            self.check_time()
            yield from items[start:start + CHECKPOINT_STEPS]
