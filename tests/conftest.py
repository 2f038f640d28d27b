"""Shared fixtures. Real services only: servers are started on 127.0.0.1, free ports, temp dirs."""

from __future__ import annotations

import socket

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One real OpenSearch 2.19 node for the session (built from Maven Central artifacts by the
    same code as ``keeneye stack up --opensearch``), stopped by PID at the end."""
    from keeneye.integrations.opensearch_node import start_cluster, stop_nodes

    nodes = start_cluster(tmp_path_factory.mktemp("opensearch"), nodes=1)
    try:
        yield nodes[0].url
    finally:
        stop_nodes(nodes)
