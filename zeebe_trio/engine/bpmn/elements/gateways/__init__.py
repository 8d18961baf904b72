"""Processors of gateways: exclusive, parallel, inclusive and event-based."""

from ._event_based_gateway import EventBasedGatewayProcessor
from ._exclusive_gateway import ExclusiveGatewayProcessor
from ._inclusive_gateway import InclusiveGatewayProcessor
from ._parallel_gateway import ParallelGatewayProcessor

__all__ = ["EventBasedGatewayProcessor", "ExclusiveGatewayProcessor", "InclusiveGatewayProcessor", "ParallelGatewayProcessor"]
