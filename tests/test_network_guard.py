"""pytest-socket keeps the suite off the network: loopback only."""

import socket

import pytest
from pytest_socket import SocketConnectBlockedError


def test_tests_cannot_reach_a_non_loopback_address() -> None:
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1, never routed


def test_tests_can_reach_loopback() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            conn, _ = server.accept()
            conn.close()
