"""The broker: partition supervision (a replicated partition: per Raft role), the command API, configuration,
and, in a cluster, what a member runs besides its replicas (``_cluster``: transport, gossip, the sender
between brokers, the embedded gateway's view of the cluster)."""

from ._broker import Broker, run_broker
from ._clock import EngineClock
from ._config import BrokerConfig, ConfigError
from ._errors import StartupError
from ._lock import DataDirectoryLock
from ._partition import Partition
from ._replicated import ReplicatedPartition

__all__ = ["Broker", "BrokerConfig", "ConfigError", "DataDirectoryLock", "EngineClock", "Partition", "ReplicatedPartition",
           "StartupError",
           "run_broker"]
