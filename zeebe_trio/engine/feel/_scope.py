"""Runtime scopes: each holds one level of names. The root scope of an evaluation also holds its budget."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._compiler import Root

__all__ = ["Scope"]


class Scope:
    """One level of runtime names; ``item`` is the current element inside a filter."""

    __slots__ = ("vars", "parent", "root", "item")

    def __init__(self, variables: Any, parent: Scope | None, root: Root) -> None:
        self.vars = variables
        self.parent = parent
        self.root = root
        self.item: Any = None
