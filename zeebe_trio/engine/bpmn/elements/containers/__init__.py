"""Processors of containers: the process."""

from ._process import ProcessProcessor

__all__ = ["ProcessProcessor"]
