"""The broker: partition supervision, the command API, configuration."""

from ._broker import Broker, run_broker
from ._clock import EngineClock
from ._config import BrokerConfig, ConfigError
from ._errors import StartupError
from ._lock import DataDirectoryLock
from ._partition import Partition

__all__ = ["Broker", "BrokerConfig", "ConfigError", "DataDirectoryLock", "EngineClock", "Partition", "StartupError",
           "run_broker"]
