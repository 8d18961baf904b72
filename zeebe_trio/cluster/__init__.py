"""Brokers talking to brokers: the transport on the internal port (framed, back-pressured,
reconnecting TCP with named channels; ``ClusterTransport``), its wire format, and the membership
gossip on top of it (``Membership``: who is in the cluster, where, doing what, up or down), and each
partition's Raft messages on it (``ClusterRaftTransport``)."""

from ._membership import MEMBERSHIP_CHANNEL, Member, MemberInfo, Membership, PartitionStatus
from ._partitions import partition_members, partitions_of_node, validate_cluster_shape
from ._raft_channel import (
           ClusterRaftTransport,
           RaftWireError,
           decode_raft_message,
           encode_raft_message,
           raft_channel,
)
from ._transport import ClusterTransport, Delivery, TransportLimits, parse_address
from ._wire import CLUSTER_WIRE_VERSION, ClusterMessage

__all__ = ["CLUSTER_WIRE_VERSION", "MEMBERSHIP_CHANNEL", "ClusterMessage", "ClusterRaftTransport", "ClusterTransport",
           "Delivery", "Member", "RaftWireError", "decode_raft_message", "encode_raft_message", "raft_channel",
           "MemberInfo", "Membership", "PartitionStatus", "TransportLimits", "parse_address", "partition_members",
           "partitions_of_node", "validate_cluster_shape"]
