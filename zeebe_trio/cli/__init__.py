"""``zeebe-trio``: run a broker, and talk to one from a terminal.

    zeebe-trio broker [--config FILE]          run a single-node broker with an embedded gateway
    zeebe-trio gateway --broker HOST:PORT      run a standalone gateway in front of a broker's command API
    zeebe-trio exporters                       list the installed exporters
    zeebe-trio sql "SELECT ..."                query the DuckDB analytics export (while the broker runs)
    zeebe-trio repair-log --data-dir DIR       what repairing a damaged partition log would cut; --yes does it

Client commands, zbctl's verbs and nouns (``--address``, else ZEEBE_ADDRESS; ``--output text|json``):

    zeebe-trio status                          show the cluster topology
    zeebe-trio deploy FILE...                  deploy BPMN resources
    zeebe-trio create instance PROCESS         start an instance (--variables, --with-result); alias create-instance
    zeebe-trio cancel instance KEY             cancel an instance
    zeebe-trio set variables KEY --variables   set variables on an element instance (--local)
    zeebe-trio publish message NAME            publish a message (--correlation-key, --ttl, --message-id)
    zeebe-trio broadcast signal NAME           broadcast a signal
    zeebe-trio activate jobs TYPE              activate jobs (--max-jobs-to-activate, --timeout, --worker)
    zeebe-trio complete job KEY                complete a job (--variables)
    zeebe-trio fail job KEY --retries N        fail a job (--error-message, --retry-backoff)
    zeebe-trio throw error KEY --error-code C  throw a BPMN error from a job
    zeebe-trio update retries KEY --retries N  set a job's retries
    zeebe-trio update timeout KEY --timeout D  give an activated job a new timeout
    zeebe-trio resolve incident KEY            resolve an incident
"""

from ._errors import CliError, UsageError
from ._main import build_parser, main

__all__ = ["CliError", "UsageError", "build_parser", "main"]
