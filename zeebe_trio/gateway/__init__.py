"""The Zeebe gateway protocol (gRPC) in front of a broker port.

``serve_gateway(port)`` serves Zeebe 8's ``gateway_protocol.Gateway`` and ``grpc.health.v1.Health``
for anything implementing ``BrokerPort``. The gateway never imports the engine: it speaks records.
"""

from ._host import GatewayCallError, call_gateway, serve_gateway
from ._port import (
    BrokerCommand,
    BrokerError,
    BrokerInfo,
    BrokerPort,
    ClusterTopology,
    JobStreamSink,
    JobStreamSpec,
    PartitionInfo,
)
from ._routing import message_partition

__all__ = [
    "BrokerCommand",
    "BrokerError",
    "BrokerInfo",
    "BrokerPort",
    "ClusterTopology",
    "GatewayCallError",
    "JobStreamSink",
    "JobStreamSpec",
    "PartitionInfo",
    "call_gateway",
    "message_partition",
    "serve_gateway",
]
