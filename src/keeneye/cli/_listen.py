"""Binding the listening socket of a server command before uvicorn starts, so that port 0 can
be resolved and printed, and a busy port is a one-line error instead of a traceback."""

from __future__ import annotations

import signal
import socket
from typing import Any

import typer


def bind_listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening, inheritable TCP socket on ``host:port`` (``port=0``: a free one);
    exits with status 1 and a message when the address cannot be used."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Protocol IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY on accepted connections only when
    # the listening socket says it is TCP; without it Nagle's algorithm delays every response
    # on a reused (keep-alive) connection by ~40 ms. Linux also copies the option from the
    # listening socket to accepted ones, so it is set here too.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(1) from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve_until_stopped(app: Any, sock: socket.socket) -> None:
    """Run ``app`` under uvicorn on ``sock`` until SIGTERM/SIGINT, then return normally.

    uvicorn shuts down cleanly on those signals, then re-raises the signal to the handler that
    was installed before it; a no-op handler here lets the process exit 0 after the clean
    shutdown instead of dying by the signal.
    """
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stopped)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def _stopped(signum: int, frame: Any) -> None:
    """Signal handler of last resort: uvicorn has already shut down when it runs."""
