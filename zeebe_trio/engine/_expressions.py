"""Compiling a process's expressions once, at deployment, and evaluating them at run time.

A BPMN attribute holds either an expression (text starting with ``=``, FEEL) or a static value. Which
attributes must be expressions follows Zeebe: conditions and mapping sources must; job type and
retries may be static. Compilation failures become deployment rejections naming the element;
evaluation failures become incidents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .bpmn import ExecutableProcess, element_label
from .bpmn._errors import ID_EXCERPT_LIMIT, excerpt
from .feel import FeelError, Monotonic, compile_expression


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

    def _shown(self) -> str:
        return excerpt(self.source, ID_EXCERPT_LIMIT, quote="'")

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


@dataclass(frozen=True, slots=True)
class MappingRule:
    source: Expression
    target_path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompiledElement:
    inputs: tuple[MappingRule, ...] = ()
    outputs: tuple[MappingRule, ...] = ()
    job_type: Expression | None = None
    job_retries: Expression | None = None


class CompiledProcess:
    """A parsed process plus every expression in it, compiled."""

    def __init__(self, process: ExecutableProcess) -> None:
        self.process = process
        self.elements: dict[str, CompiledElement] = {}
        self.conditions: dict[str, Expression] = {}
        self.process_inputs: tuple[MappingRule, ...] = ()
        self.process_outputs: tuple[MappingRule, ...] = ()

    def element(self, element_id: str) -> CompiledElement:
        return self.elements.get(element_id) or _EMPTY


_EMPTY = CompiledElement()


class CompileProblems(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _compile(text: str, where: str, *, expression_required: bool, static: Callable[[str], Any] = str) -> Expression:
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


def _mappings(rules: Any, where: str, problems: list[str]) -> tuple[MappingRule, ...]:
    compiled = []
    for rule in rules:
        target = (rule.target or "").strip()
        if not target:
            problems.append(f"{where}: a mapping with source '{excerpt(rule.source or '', quote=chr(39))}' has no target")
            continue
        try:
            source = _compile(rule.source or "", f"{where}: mapping to '{excerpt(target, quote=chr(39))}'", expression_required=True)
        except CompileProblems as error:
            problems.extend(error.problems)
            continue
        compiled.append(MappingRule(source, tuple(part.strip() for part in target.split("."))))
    return tuple(compiled)


def _retries(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def compile_process(process: ExecutableProcess) -> CompiledProcess:
    """Compile every expression of ``process``; CompileProblems lists all that fail."""
    compiled = CompiledProcess(process)
    problems: list[str] = []
    prefix = element_label("process", process.bpmn_process_id, process.name)
    compiled.process_inputs = _mappings(process.input_mappings, prefix, problems)
    compiled.process_outputs = _mappings(process.output_mappings, prefix, problems)
    for node in process.flow_nodes():
        where = f"{prefix}: {element_label(node.element_type.name.lower().replace('_', ' '), node.id, node.name)}"
        job_type = job_retries = None
        if node.job_type is not None:
            try:
                job_type = _compile(node.job_type, f"{where}: job type", expression_required=False)
            except CompileProblems as error:
                problems.extend(error.problems)
            try:
                job_retries = _compile(node.job_retries or "3", f"{where}: job retries",
                                       expression_required=False, static=_retries)
            except CompileProblems as error:
                problems.extend(error.problems)
        inputs = _mappings(node.input_mappings, where, problems)
        outputs = _mappings(node.output_mappings, where, problems)
        if inputs or outputs or job_type is not None:
            compiled.elements[node.id] = CompiledElement(inputs, outputs, job_type, job_retries)
    for flow in process.sequence_flows():
        if flow.condition is not None and flow.condition.strip():
            where = f"{prefix}: {element_label('sequence flow', flow.id, flow.name)} condition"
            try:
                compiled.conditions[flow.id] = _compile(flow.condition, where, expression_required=True)
            except CompileProblems as error:
                problems.extend(error.problems)
    if problems:
        raise CompileProblems(problems)
    return compiled


class ScopeVariables(Mapping[str, Any]):
    """The variables visible from a scope, fetched lazily from state (inner scopes shadow outer).

    ``overlay`` holds values that take precedence (e.g. a job's completion variables in output mappings).
    """

    __slots__ = ("_lookup", "_all", "_overlay", "_cache")

    def __init__(self, lookup: Callable[[str], str | None], all_visible: Callable[[], dict[str, Any]],
                 overlay: Mapping[str, Any] | None = None) -> None:
        self._lookup = lookup
        self._all = all_visible
        self._overlay = overlay or {}
        self._cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name in self._overlay:
            return self._overlay[name]
        if name in self._cache:
            return self._cache[name]
        raw = self._lookup(name)
        if raw is None:
            raise KeyError(name)
        value = self._cache[name] = json.loads(raw)
        return value

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name in self._overlay or name in self._cache or self._lookup(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter({**self._all(), **self._overlay})

    def __len__(self) -> int:
        return len({**self._all(), **self._overlay})
