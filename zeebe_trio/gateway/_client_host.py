"""The command line's gRPC client host: one blocking call to a Zeebe gateway, on grpclib's asyncio.

The second (and last) place asyncio lives, beside the server host in ``_host``: grpclib's client runs
on asyncio too, and a command-line call is one short ``asyncio.run`` with no Trio in the process.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from grpclib import GRPCError


class GatewayCallError(Exception):
    """A gateway call failed: the gRPC status and message, or why the gateway was unreachable."""


def call_gateway(address: str, rpc: str, request: Any, *, timeout: float = 10.0) -> Any:
    """Call one unary RPC (e.g. ``"DeployResource"``) on a Zeebe gateway and return the response.

    Blocking; for the ``zeebe-trio`` client commands.
    """
    from grpclib.client import Channel

    from ._generated import gateway_protocol as gw

    host, _, port = address.rpartition(":")
    method_name = re.sub(r"(?<!^)(?=[A-Z])", "_", rpc).lower()

    async def call() -> Any:
        channel = Channel(host or "localhost", int(port))
        try:
            return await getattr(gw.GatewayStub(channel), method_name)(request, timeout=timeout)
        finally:
            channel.close()

    try:
        return asyncio.run(call())
    except GRPCError as error:
        raise GatewayCallError(f"{error.status.name}: {error.message}") from None
    except (TimeoutError, OSError) as error:
        raise GatewayCallError(f"cannot reach a gateway at {address}: {error or type(error).__name__}") from None
