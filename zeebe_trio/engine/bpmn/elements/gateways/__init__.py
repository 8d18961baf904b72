"""Processors of gateways: exclusive, parallel and inclusive."""

from ._exclusive_gateway import ExclusiveGatewayProcessor
from ._inclusive_gateway import InclusiveGatewayProcessor
from ._parallel_gateway import ParallelGatewayProcessor

__all__ = ["ExclusiveGatewayProcessor", "InclusiveGatewayProcessor", "ParallelGatewayProcessor"]
