#!/usr/bin/env python3
"""Readiness probe for the local Kafka broker (used by deploy/local/kafka.sh).

Standard library only, so it works before any project virtualenv exists.
It speaks the Kafka wire protocol directly and succeeds only when the broker is
really usable, not merely listening:

  1. ApiVersions answers (request handling is enabled, which in KRaft mode only
     happens after the broker has been unfenced by the controller);
  2. Metadata lists at least one broker and a live controller id;
  3. FindCoordinator for a consumer group returns a coordinator.  This makes the
     broker create __consumer_offsets now, so the first consumer group in a test
     does not pay for it (and does not time out on a slow CI machine).

Usage: probe.py HOST PORT [--timeout SECONDS] [--quiet]
Exit status 0 when ready, 1 on timeout (last error printed to stderr).
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import time

API_METADATA = 3
API_FIND_COORDINATOR = 10
API_API_VERSIONS = 18

CLIENT_ID = b"mimamori-probe"


class NotReady(Exception):
    pass


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise NotReady("short response")
        vals = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return vals if len(vals) > 1 else vals[0]

    def string(self) -> str | None:
        n = self.take(">h")
        if n < 0:
            return None
        s = self.data[self.pos : self.pos + n]
        self.pos += n
        return s.decode("utf-8", "replace")


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise NotReady("connection closed by broker")
        buf += chunk
    return bytes(buf)


def request(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> Reader:
    # Request header v1 (non-flexible): api_key, api_version, correlation_id, client_id.
    header = struct.pack(">hhih", api_key, version, corr, len(CLIENT_ID)) + CLIENT_ID
    msg = header + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", _recv_exact(sock, 4))[0]
    r = Reader(_recv_exact(sock, size))
    if r.take(">i") != corr:  # response header v0: correlation_id
        raise NotReady("correlation id mismatch")
    return r


def pick(ranges: dict[int, tuple[int, int]], api: int, lo: int, hi: int) -> int | None:
    """Highest version in [lo, hi] (the non-flexible ones we can encode) the broker supports."""
    if api not in ranges:
        return None
    bmin, bmax = ranges[api]
    v = min(hi, bmax)
    return v if v >= max(lo, bmin) else None


def check_once(host: str, port: int) -> str:
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.settimeout(5)
        # ApiVersions v0: empty body; response: error_code, [api_key, min, max].
        r = request(sock, API_API_VERSIONS, 0, 1, b"")
        err = r.take(">h")
        if err != 0:
            raise NotReady(f"ApiVersions error_code={err}")
        ranges = {}
        for _ in range(r.take(">i")):
            k, lo, hi = r.take(">hhh")
            ranges[k] = (lo, hi)

        notes = []
        # Metadata v4..v8 (non-flexible). Empty topic list, no auto-creation.
        mv = pick(ranges, API_METADATA, 4, 8)
        if mv is None:
            notes.append("metadata check skipped (no common version)")
        else:
            body = struct.pack(">i", 0) + struct.pack(">?", False)
            if mv >= 8:
                body += struct.pack(">??", False, False)  # include cluster/topic authorized ops
            r = request(sock, API_METADATA, mv, 2, body)
            r.take(">i")  # throttle_time_ms
            brokers = []
            for _ in range(r.take(">i")):
                node_id = r.take(">i")
                bhost = r.string()
                bport = r.take(">i")
                r.string()  # rack
                brokers.append((node_id, bhost, bport))
            r.string()  # cluster_id
            controller = r.take(">i")
            if not brokers:
                raise NotReady("metadata lists no brokers yet")
            if controller < 0:
                raise NotReady("no active controller yet")
            notes.append(f"brokers={brokers} controller={controller}")

        # FindCoordinator v1..v2 (non-flexible): key, key_type (0 = group).
        fv = pick(ranges, API_FIND_COORDINATOR, 1, 2)
        if fv is None:
            notes.append("coordinator check skipped (no common version)")
        else:
            key = b"mimamori-readiness-probe"
            body = struct.pack(">h", len(key)) + key + struct.pack(">b", 0)
            r = request(sock, API_FIND_COORDINATOR, fv, 3, body)
            r.take(">i")  # throttle_time_ms
            err = r.take(">h")
            msg = r.string()
            if err != 0:
                # 15 COORDINATOR_NOT_AVAILABLE / 14 COORDINATOR_LOAD_IN_PROGRESS while
                # __consumer_offsets is being created and loaded.
                raise NotReady(f"group coordinator not ready (error_code={err} {msg or ''})".strip())
            notes.append("group coordinator ready")
        return "; ".join(notes)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    deadline = time.monotonic() + args.timeout
    last = "not tried"
    while True:
        try:
            info = check_once(args.host, args.port)
            if not args.quiet:
                print(f"kafka probe: ready ({info})")
            return 0
        except (OSError, NotReady, struct.error) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            print(f"kafka probe: not ready after {args.timeout:.0f}s: {last}", file=sys.stderr)
            return 1
        time.sleep(0.25)


if __name__ == "__main__":
    sys.exit(main())
