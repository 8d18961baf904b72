"""Evaluating compiled expressions against the variables visible from a scope, at the record's time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from zeebe_trio.protocol import ErrorType, excerpt

from ..._batch import Batch
from ...feel import Monotonic
from .._result_types import result_type
from ..model import EvaluationError, Expression
from ._failure import ElementFailure

__all__ = ["ExpressionBehavior", "ScopeVariables"]


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


class ExpressionBehavior:
    """``monotonic`` is the clock of FEEL's time budget (``Engine``): it only decides when an evaluation
    gives up, never a value."""

    def __init__(self, monotonic: Monotonic | None) -> None:
        self.monotonic = monotonic

    def variables_at(self, batch: Batch, scope_key: int, overlay: Mapping[str, Any] | None = None) -> ScopeVariables:
        state = batch.state
        return ScopeVariables(lambda name: state.lookup_variable(scope_key, name),
                              lambda: state.visible_variables(scope_key), overlay)

    def evaluate(self, batch: Batch, expression: Expression, variables: Mapping[str, Any]) -> Any:
        """The value of ``expression``; raises EvaluationError."""
        return expression.evaluate(variables, batch.now_datetime, self.monotonic)

    def evaluate_string(self, batch: Batch, expression: Expression, variables: Mapping[str, Any]) -> str:
        """The value of an expression that must give a string (a called process's or decision's id);
        an EXTRACT_VALUE_ERROR failure, worded as Zeebe's, if it fails or gives something else."""
        try:
            value = self.evaluate(batch, expression, variables)
        except EvaluationError as error:
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR, str(error)) from None
        if not isinstance(value, str):
            source = expression.source.strip().removeprefix("=").strip()
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR,
                                 f"Expected result of the expression {excerpt(source)} to be 'STRING', but was"
                                 f" '{result_type(value)}'.")
        return value
