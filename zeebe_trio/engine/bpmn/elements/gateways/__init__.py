"""Processors of gateways: exclusive and parallel."""

from ._exclusive_gateway import ExclusiveGatewayProcessor
from ._parallel_gateway import ParallelGatewayProcessor

__all__ = ["ExclusiveGatewayProcessor", "ParallelGatewayProcessor"]
