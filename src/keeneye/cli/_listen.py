"""Binding the listening socket of a server command before uvicorn starts, so that port 0 can
be resolved and printed, and a busy port is a one-line error instead of a traceback."""

from __future__ import annotations

import socket

import typer


def bind_listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening, inheritable TCP socket on ``host:port`` (``port=0``: a free one);
    exits with status 1 and a message when the address cannot be used."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(1) from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
