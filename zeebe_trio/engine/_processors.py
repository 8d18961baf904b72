"""Imports every processor module so that their ``@processes`` registrations are complete."""

from . import _bpmn, _deployment, _documents, _incidents, _jobs  # noqa: F401
from ._registry import PROCESSORS

__all__ = ["PROCESSORS"]
