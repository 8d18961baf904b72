"""The public entry points: compile once, evaluate many times."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from . import _ast as ast
from ._budget import Monotonic
from ._compiler import Root, Scope, compile_tree, free_names
from ._errors import FeelEvaluationError
from ._parser import parse_expression, parse_unary_tests
from ._values import to_json_value

__all__ = ["Expression", "UnaryTests", "compile_expression", "compile_unary_tests"]

Clock = Callable[[], datetime]
_new = object.__new__


def _run(fn: Callable[[Scope], Any], scope: Scope) -> Any:
    try:
        return fn(scope)
    except RecursionError:
        raise FeelEvaluationError("expression evaluation nested too deeply") from None
    except MemoryError:
        raise FeelEvaluationError("expression evaluation ran out of memory") from None


class Expression:
    """A compiled FEEL expression.

    ``evaluate`` takes the variables as plain JSON-decoded values and returns a FEEL value
    (see :func:`to_json_value` to store it). Missing names and type mismatches yield None, as in
    feel-scala; only exceeded limits and failed assertions raise :class:`FeelEvaluationError`.

    ``now`` is the clock of ``now()`` and ``today()``. ``monotonic`` (seconds, e.g. ``time.monotonic``)
    turns on the time budget of one evaluation; the step and size budgets always apply (``_budget``).
    ``as_json`` returns ``to_json_value(result)``, converted within the same budget.
    """

    __slots__ = ("source", "variable_names", "_fn")

    def __init__(self, source: str, fn: Callable[[Scope], Any], variable_names: frozenset[str]) -> None:
        self.source = source
        self.variable_names = variable_names
        self._fn = fn

    def evaluate(self, variables: Mapping[str, Any], *, now: Clock | None = None,
                 monotonic: Monotonic | None = None, as_json: bool = False) -> Any:
        # Root(variables, now, monotonic), built here: for a simple expression the constructor's call
        # costs a tenth of the evaluation. Keep it in step with Root.__init__ (a test compares them).
        root = _new(Root)
        root.vars = variables
        root.parent = None
        root.root = root
        root.item = None
        root.now = now
        root.depth = 0
        root.steps = 0
        root.allocated = 0
        root.monotonic = monotonic
        root.deadline = None
        try:
            result = self._fn(root)
            return to_json_value(result, root) if as_json else result
        except RecursionError:
            raise FeelEvaluationError("expression evaluation nested too deeply") from None
        except MemoryError:
            raise FeelEvaluationError("expression evaluation ran out of memory") from None

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


class UnaryTests:
    """Compiled unary tests (``< 10``, ``[1..5], > 10``, ``not("a")``, ``-``) on the input value ``?``."""

    __slots__ = ("source", "variable_names", "_fn")

    def __init__(self, source: str, fn: Callable[[Scope], Any], variable_names: frozenset[str]) -> None:
        self.source = source
        self.variable_names = variable_names
        self._fn = fn

    def test(
        self, input_value: Any, variables: Mapping[str, Any] | None = None, *, now: Clock | None = None,
        monotonic: Monotonic | None = None,
    ) -> bool | None:
        """Whether input_value passes the tests (None when that cannot be decided)."""
        root = Root(variables if variables is not None else {}, now, monotonic)
        return _run(self._fn, Scope({"?": input_value}, root, root))  # type: ignore[no-any-return]

    def evaluate(self, variables: Mapping[str, Any], *, now: Clock | None = None,
                 monotonic: Monotonic | None = None) -> bool | None:
        """Like :meth:`test`, reading the input value from the variable ``?``."""
        return self.test(variables.get("?"), variables, now=now, monotonic=monotonic)

    def __repr__(self) -> str:
        return f"UnaryTests({self.source!r})"


def _variable_names(node: ast.Node) -> frozenset[str]:
    return frozenset(name for name in free_names(node) if name != "?")


def compile_expression(source: str) -> Expression:
    """Parses and compiles FEEL source (without Zeebe's leading '='); raises FeelSyntaxError."""
    node = parse_expression(source)
    return Expression(source, compile_tree(node), _variable_names(node))


def compile_unary_tests(source: str) -> UnaryTests:
    """Parses and compiles unary tests; raises FeelSyntaxError."""
    node = parse_unary_tests(source)
    return UnaryTests(source, compile_tree(node, input_name=True), _variable_names(node))
