"""Brokers talking to brokers: the transport on the internal port (framed, back-pressured,
reconnecting TCP with named channels; ``ClusterTransport``), its wire format, and the membership
gossip on top of it (``Membership``: who is in the cluster, where, doing what, up or down)."""

from ._membership import MEMBERSHIP_CHANNEL, Member, MemberInfo, Membership, PartitionStatus
from ._partitions import partition_members, partitions_of_node, validate_cluster_shape
from ._transport import ClusterTransport, Delivery, TransportLimits, parse_address
from ._wire import CLUSTER_WIRE_VERSION, ClusterMessage

__all__ = ["CLUSTER_WIRE_VERSION", "MEMBERSHIP_CHANNEL", "ClusterMessage", "ClusterTransport", "Delivery", "Member",
           "MemberInfo", "Membership", "PartitionStatus", "TransportLimits", "parse_address", "partition_members",
           "partitions_of_node", "validate_cluster_shape"]
