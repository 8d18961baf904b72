"""Brokers talking to brokers: the transport on the internal port (framed, back-pressured,
reconnecting TCP with named channels; ``ClusterTransport``) and its wire format."""

from ._transport import ClusterTransport, Delivery, TransportLimits, parse_address
from ._wire import CLUSTER_WIRE_VERSION, ClusterMessage

__all__ = ["CLUSTER_WIRE_VERSION", "ClusterMessage", "ClusterTransport", "Delivery", "TransportLimits", "parse_address"]
