"""``zeebe-trio``: run a broker, and talk to one from a terminal.

    zeebe-trio broker [--config FILE]          run a single-node broker with an embedded gateway
    zeebe-trio gateway --broker HOST:PORT      run a standalone gateway in front of a broker's command API
    zeebe-trio deploy FILE...                  deploy BPMN resources
    zeebe-trio create-instance PROCESS_ID      start an instance (--variables JSON, --with-result)
    zeebe-trio status                          show the cluster topology
    zeebe-trio exporters                       list the installed exporters
    zeebe-trio sql "SELECT ..."                query the DuckDB analytics export (while the broker runs)
"""

from ._errors import CliError, UsageError
from ._main import build_parser, main

__all__ = ["CliError", "UsageError", "build_parser", "main"]
