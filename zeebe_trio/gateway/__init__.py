"""The Zeebe gateway protocol (gRPC) in front of a broker port.

``serve_gateway(port)`` serves Zeebe 8's ``gateway_protocol.Gateway`` and ``grpc.health.v1.Health``
for anything implementing ``BrokerPort``. The gateway never imports the engine: it speaks records.
``run_standalone_gateway`` serves it in a process of its own, in front of a broker's command API
(``RemoteBrokerPort``); ``ClusterBrokerPort`` puts one port in front of several brokers, routing each
command to its partition's leader.
"""

from ._client_host import GatewayCallError, call_gateway
from ._cluster_port import ClusterBrokerPort
from ._host import serve_gateway
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
from ._remote import RemoteBrokerPort, run_standalone_gateway
from ._routing import message_partition

__all__ = [
    "BrokerCommand",
    "BrokerError",
    "BrokerInfo",
    "BrokerPort",
    "ClusterBrokerPort",
    "ClusterTopology",
    "GatewayCallError",
    "JobStreamSink",
    "JobStreamSpec",
    "PartitionInfo",
    "RemoteBrokerPort",
    "call_gateway",
    "message_partition",
    "run_standalone_gateway",
    "serve_gateway",
]
