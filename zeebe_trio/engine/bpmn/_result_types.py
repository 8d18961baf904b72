"""The names Zeebe's ``ResultType`` gives an expression's result, as its incident messages quote them
("Expected result of the expression 'x' to be 'ARRAY', but was 'NULL'.")."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..feel import YearMonthDuration

__all__ = ["result_type"]


def result_type(value: Any) -> str:
    """The name of a FEEL value's type (a JSON value's, or a temporal one's), or UNKNOWN."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float | Decimal):
        return "NUMBER"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, list):
        return "ARRAY"
    if isinstance(value, dict):
        return "OBJECT"
    if isinstance(value, timedelta):
        return "DURATION"
    if isinstance(value, YearMonthDuration):
        return "PERIOD"
    if isinstance(value, datetime):
        return "DATE_TIME"
    if isinstance(value, date):
        return "DATE"
    return "UNKNOWN"
