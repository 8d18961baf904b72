"""``host:port`` addresses as settings and command lines give them (broker command APIs, the cluster's
internal ports): one parser, so every place accepts the same forms and says the same about bad ones."""

from __future__ import annotations

__all__ = ["parse_address"]


def parse_address(text: str, default_port: int, *, what: str = "address",
                  empty_host: str | None = None) -> tuple[str, int]:
    """``host:port``, ``host`` (the ``default_port``) or ``[v6]:port`` as ``(host, port)``; ValueError
    naming ``what`` and the problem. An empty host is ``empty_host`` when given, else an error."""
    text = text.strip()
    if not text:
        raise ValueError(f"an empty {what}")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host:
        if empty_host is None:
            raise ValueError(f"{what} {text!r:.80} has no host")
        host = empty_host
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise ValueError(f"{what} {text!r:.80}: port {port_text!r:.20} is not a number") from None
    if not 0 < port < 65536:
        raise ValueError(f"{what} {text!r:.80}: port {port} is out of range")
    return host, port
