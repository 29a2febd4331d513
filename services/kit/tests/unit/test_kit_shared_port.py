"""Replicas on one machine share a port (`mimamori run --reuse-port`), and the test deployment can tell which
process listens on it."""

from __future__ import annotations

import os
import socket

from mimamori.kit.runtime.cli import shared_listener
from mimamori.kit.testing.deployment import free_port, listens


def test_two_listeners_share_a_port_that_a_plain_bind_cannot_take() -> None:
    port = free_port()
    first = shared_listener("127.0.0.1", port)
    second = shared_listener("127.0.0.1", port)
    try:
        plain = socket.socket()
        try:
            plain.bind(("127.0.0.1", port))
        except OSError:
            refused = True
        else:
            refused = False
        finally:
            plain.close()
        assert refused
        # Each listener takes connections: the kernel spreads them, so connect until both have had one.
        seen: set[int] = set()
        clients = []
        for _ in range(64):
            client = socket.create_connection(("127.0.0.1", port), timeout=2)
            clients.append(client)
            for listener in (first, second):
                listener.setblocking(False)
                try:
                    accepted, _ = listener.accept()
                except BlockingIOError:
                    continue
                accepted.close()
                seen.add(listener.fileno())
            if len(seen) == 2:
                break
        for client in clients:
            client.close()
        assert seen == {first.fileno(), second.fileno()}
    finally:
        first.close()
        second.close()


def test_listens_tells_whether_a_process_listens_on_a_port() -> None:
    port, other = free_port(), free_port()
    listener = shared_listener("127.0.0.1", port)
    try:
        assert listens(os.getpid(), port)
        assert not listens(os.getpid(), other)
    finally:
        listener.close()
    assert not listens(os.getpid(), port)
