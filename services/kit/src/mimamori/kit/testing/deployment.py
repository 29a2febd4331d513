"""The distributed form on this machine for tests and benchmarks: every module its own process on PostgreSQL
(a schema and a role each) and Kafka, the gateway forwarding over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from mimamori.kit.auth import generate_dev_issuer_key, generate_signing_key
from mimamori.kit.provisioning import provision_service
from mimamori.kit.runtime.process import SEED_DEMO

SERVICES = ("audit", "ingest", "identity", "risk", "casework")
MIMAMORI = str(Path(sys.executable).with_name("mimamori"))


@dataclass(frozen=True)
class Deployment:
    """Where the started modules listen, and the gateway's context key (to call services directly)."""

    ports: dict[str, int]
    private_key_pem: bytes
    logs: Path
    pids: dict[str, int] = field(default_factory=dict)

    def url(self, name: str) -> str:
        """Base URL of one module."""
        return f"http://127.0.0.1:{self.ports[name]}"


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _tail(log: Path) -> str:
    text = await asyncio.to_thread(log.read_text, errors="replace")
    return text[-3000:]


async def _healthy(
    url: str, process: asyncio.subprocess.Process, log: Path, *, within: float, shared_port: int | None = None
) -> None:
    """Until `url` answers /healthz, and, for a replica on a `shared_port`, the process listens on it itself (a
    call to the port may reach another replica)."""
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(int(within / 0.25)):
            if process.returncode is not None:
                raise RuntimeError(f"{log.stem} exited:\n{await _tail(log)}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{url}/healthz")).status_code == 200 and (
                    shared_port is None or await asyncio.to_thread(listens, process.pid, shared_port)
                ):
                    return
            await asyncio.sleep(0.25)
    raise RuntimeError(f"{log.stem} did not come up:\n{await _tail(log)}")


def listens(pid: int, port: int) -> bool:
    """Whether a process has a TCP socket listening on a port (Linux /proc): one replica among several on a shared
    port cannot be told apart by calling the port."""
    wanted = f":{port:04X}"
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[1].endswith(wanted) and fields[3] == "0A":  # 0A: LISTEN
                    inodes.add(fields[9])
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    targets: set[str] = set()
    for fd in fds:
        with contextlib.suppress(OSError):  # closed meanwhile (the listing's own descriptor, for one)
            targets.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return any(f"socket:[{inode}]" in targets for inode in inodes)


@contextlib.asynccontextmanager
async def distributed(
    *,
    admin_url: str,
    kafka_bootstrap: str,
    namespace: str,
    directory: Path,
    extra_env: dict[str, str] | None = None,
    within: float = 90.0,
    replicas: dict[str, int] | None = None,
) -> AsyncIterator[Deployment]:
    """Provision, start every module as `mimamori run --target X`, wait until healthy, stop them after.

    `replicas` runs more than one process of a module, all listening on its port (`--reuse-port`), as replicas
    behind a load balancer would: they start together (their migrations take turns) and each is listening
    before this returns. Their pids are named `<module>.2`, `<module>.3` …"""
    key = generate_signing_key()
    private_pem = key.as_pem(private=True)
    (directory / "context.key").write_bytes(private_pem)
    (directory / "context.pub").write_bytes(key.as_pem(private=False))
    # The development issuer's key, shared by the gateway's replicas (each would make its own otherwise).
    (directory / "dev-issuer.pem").write_bytes(generate_dev_issuer_key())
    ports = {name: free_port() for name in (*SERVICES, "gateway")}
    common = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")},
        "MIMAMORI_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "MIMAMORI_KAFKA_NAMESPACE": namespace,
        SEED_DEMO: "false",
        "MIMAMORI_OUTBOX_POLL_SECONDS": "0.2",
        "MIMAMORI_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    replicas = replicas or {}
    processes: dict[str, asyncio.subprocess.Process] = {}  # by label: the module, or `<module>.<n>` for a replica
    try:
        for name in (*SERVICES, "gateway"):
            password = f"{name}-{namespace.strip('.')}"
            env = {
                **common,
                "MIMAMORI_DATABASE_URL": await provision_service(admin_url=admin_url, service=name, password=password),
                "MIMAMORI_DATA_DIR": str(directory / name),
                "MIMAMORI_CONTEXT_PUBLIC_KEY_FILE": str(directory / "context.pub"),
            }
            if name == "gateway":
                env |= {
                    "MIMAMORI_CONTEXT_PRIVATE_KEY_FILE": str(directory / "context.key"),
                    "MIMAMORI_GATEWAY_UPSTREAMS": json.dumps({s: f"http://127.0.0.1:{ports[s]}" for s in SERVICES}),
                    "MIMAMORI_GATEWAY_DEV_ISSUER_BASE_URL": f"http://127.0.0.1:{ports['gateway']}",
                    "MIMAMORI_GATEWAY_DEV_ISSUER_KEY_FILE": str(directory / "dev-issuer.pem"),
                }
            count = replicas.get(name, 1)
            for replica in range(1, count + 1):
                label = name if replica == 1 else f"{name}.{replica}"
                log = await asyncio.to_thread((directory / f"{label}.log").open, "wb")
                try:
                    process = await asyncio.create_subprocess_exec(
                        MIMAMORI,
                        "run",
                        "--target",
                        name,
                        "--port",
                        str(ports[name]),
                        *(["--reuse-port"] if count > 1 else []),
                        env=env,
                        stdout=log,
                        stderr=asyncio.subprocess.STDOUT,
                    )
                finally:
                    log.close()
                processes[label] = process
        for label, process in processes.items():
            name = label.split(".")[0]
            await _healthy(
                f"http://127.0.0.1:{ports[name]}",
                process,
                directory / f"{label}.log",
                within=within,
                shared_port=ports[name] if replicas.get(name, 1) > 1 else None,
            )
        pids = {label: process.pid for label, process in processes.items()}
        yield Deployment(ports=ports, private_key_pem=private_pem, logs=directory, pids=pids)
    finally:
        for process in processes.values():
            if process.returncode is None:
                process.terminate()
        for process in processes.values():
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                process.kill()
                await process.wait()
