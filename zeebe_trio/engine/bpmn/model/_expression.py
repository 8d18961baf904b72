"""Expressions compiled once, when a process is transformed into its executable model, and evaluated at run time.

A BPMN attribute holds either an expression (text starting with ``=``, FEEL) or a static value. Which
attributes must be expressions follows Zeebe: conditions and mapping sources must; job type and
retries may be static. Compilation failures become deployment rejections naming the element;
evaluation failures become incidents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ...feel import FeelError, Monotonic, compile_expression
from .._errors import ID_EXCERPT_LIMIT, excerpt


class EvaluationError(Exception):
    """An expression could not produce a usable value; the engine raises an incident with this text."""


_INT64 = 1 << 63


def _double(value: int | Decimal) -> float:
    result = float(value)  # ints overflow with OverflowError, Decimals silently become inf
    if result != result or result in (float("inf"), float("-inf")):
        raise OverflowError(value)
    return result


def _plain(value: Any) -> Any:
    """A FEEL result's JSON value as records hold it: numbers become 64-bit integers, else finite
    doubles (MessagePack's range)."""
    if type(value) is int:
        return value if -_INT64 <= value < _INT64 else _double(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < _INT64 else _double(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def record_value(value: Any) -> Any:
    """A JSON value with FEEL numbers (Decimals) as records hold them (see ``_plain``); OverflowError for a
    number beyond a double's range. For FEEL results computed elsewhere (decision outputs)."""
    return _plain(value)


class Expression:
    """A compiled attribute value: a FEEL expression or a static value."""

    __slots__ = ("source", "_feel", "_static")

    def __init__(self, source: str, feel: Any = None, static: Any = None) -> None:
        self.source = source
        self._feel = feel
        self._static = static

    def evaluate(self, variables: Mapping[str, Any], now: Callable[[], datetime],
                 monotonic: Monotonic | None = None) -> Any:
        """The value, as a record holds it. ``monotonic`` turns on FEEL's time budget (``Engine``)."""
        if self._feel is None:
            return self._static
        try:
            # Converted to JSON inside the evaluation's budget: a result that holds one part many
            # times grows when written out, and that must fail as the evaluation, not hang after it.
            return _plain(self._feel.evaluate(variables, now=now, monotonic=monotonic, as_json=True))
        except FeelError as error:
            raise EvaluationError(f"failed to evaluate expression '{self._shown()}': {error}") from None
        except OverflowError:
            raise EvaluationError(f"the expression '{self._shown()}' produced a number too large for a"
                                  " variable (beyond a double's range)") from None

    def evaluate_feel(self, variables: Mapping[str, Any], now: Callable[[], datetime],
                      monotonic: Monotonic | None = None) -> Any:
        """The value as FEEL has it (dates, durations), for the attributes that take such values
        (timers); a static value as written."""
        if self._feel is None:
            return self._static
        try:
            return self._feel.evaluate(variables, now=now, monotonic=monotonic)
        except FeelError as error:
            raise EvaluationError(f"failed to evaluate expression '{self._shown()}': {error}") from None

    @property
    def is_static(self) -> bool:
        return self._feel is None

    def _shown(self) -> str:
        return excerpt(self.source, ID_EXCERPT_LIMIT, quote="'")

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


@dataclass(frozen=True, slots=True)
class MappingRule:
    source: Expression
    target_path: tuple[str, ...]


class CompileProblems(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def compile_value(text: str, where: str, *, expression_required: bool, static: Callable[[str], Any] = str) -> Expression:
    """Compile one attribute: FEEL after a leading ``=``, else a static value (when allowed) converted by
    ``static``; CompileProblems names ``where`` on failure."""
    text = text.strip()
    if text.startswith("="):
        source = text[1:].strip()
        try:
            return Expression(text, feel=compile_expression(source))
        except FeelError as error:
            raise CompileProblems([f"{where}: {error}"]) from None
    if expression_required:
        shown = excerpt(text, quote="'")
        raise CompileProblems([
            f"{where}: expected an expression but found the static value '{shown}'; an expression must start"
            f" with '=' (e.g. '={shown}')"
        ])
    try:
        return Expression(text, static=static(text))
    except ValueError:
        raise CompileProblems([f"{where}: '{excerpt(text, quote=chr(39))}' is not a valid value"]) from None


def compile_mappings(rules: Any, where: str, problems: list[str]) -> tuple[MappingRule, ...]:
    compiled = []
    for rule in rules:
        target = (rule.target or "").strip()
        if not target:
            problems.append(f"{where}: a mapping with source '{excerpt(rule.source or '', quote=chr(39))}' has no target")
            continue
        try:
            source = compile_value(rule.source or "", f"{where}: mapping to '{excerpt(target, quote=chr(39))}'", expression_required=True)
        except CompileProblems as error:
            problems.extend(error.problems)
            continue
        compiled.append(MappingRule(source, tuple(part.strip() for part in target.split("."))))
    return tuple(compiled)


def parse_retries(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value
