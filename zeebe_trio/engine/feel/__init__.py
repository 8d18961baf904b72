"""FEEL, the expression language of Zeebe 8 (compatible with Camunda's feel-scala).

Compile once, evaluate many times::

    expression = compile_expression("order.total > 100")
    expression.evaluate({"order": {"total": 120}})   # True

Values are plain Python: numbers are int/Decimal, contexts dicts, lists lists, temporals
``datetime`` types (see ``_temporal``). Null-friendly: missing names and type mismatches give None.
"""

from ._api import Expression, UnaryTests, compile_expression, compile_unary_tests
from ._budget import Monotonic
from ._errors import FeelError, FeelEvaluationError, FeelSyntaxError
from ._temporal import YearMonthDuration
from ._values import FeelFunction, FeelRange, from_json_value, to_json_value

__all__ = [
    "Expression",
    "FeelError",
    "FeelEvaluationError",
    "FeelFunction",
    "FeelRange",
    "FeelSyntaxError",
    "Monotonic",
    "UnaryTests",
    "YearMonthDuration",
    "compile_expression",
    "compile_unary_tests",
    "from_json_value",
    "to_json_value",
]
