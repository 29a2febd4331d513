"""The `mimamori` command: `run --target`, `--list-targets`, and the subcommands services contribute."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable
from importlib.metadata import entry_points

import click
import uvicorn

from mimamori.kit.config import PlatformSettings
from mimamori.kit.runtime.process import ALL, configure_logging, freeze_start_up_objects, running
from mimamori.kit.runtime.registry import discover

CLI_GROUP = "mimamori.cli"
KEEP_ALIVE_SECONDS = 75
LISTEN_BACKLOG = 2048  # uvicorn's own


class MimamoriCLI(click.Group):
    """Adds the command groups services register under the `mimamori.cli` entry point."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *(e.name for e in entry_points(group=CLI_GROUP))})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        for entry in entry_points(group=CLI_GROUP):
            if entry.name == cmd_name:
                loaded: click.Command = entry.load()
                return loaded
        return None


@click.group(cls=MimamoriCLI)
def main() -> None:
    """Mimamori (見守り): link what the town knows about its children, so that none who needs support is missed."""


@main.command()
@click.option("--target", "target", default=ALL, show_default=True, help="`all`, or one module to run alone")
@click.option("--list-targets", is_flag=True, help="list the modules and exit")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="default: 8000 for the gateway/all, the module's port otherwise")
@click.option(
    "--reuse-port",
    is_flag=True,
    help="let other processes of the module listen on the same port (SO_REUSEPORT: the kernel spreads connections "
    "across them): replicas on one machine",
)
def run(target: str, list_targets: bool, host: str, port: int | None, reuse_port: bool) -> None:
    """Run the platform: every module in one process (default) or one module alone."""
    modules = discover()
    if list_targets:
        click.echo(ALL)
        for name in sorted(modules):
            deps = ", ".join(modules[name].dependencies) or "-"
            click.echo(f"{name}\t(port {modules[name].port}; depends on {deps})")
        return
    settings = PlatformSettings()
    configure_logging(settings)
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(_serve(target=target, settings=settings, host=host, port=port, reuse_port=reuse_port))


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed (uvicorn[standard] brings it): its loop costs far less CPU per request and per
    database round trip than asyncio's own; None (asyncio's loop) elsewhere."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def shared_listener(host: str, port: int) -> socket.socket:
    """A listening socket that other processes may bind too (Linux: the kernel spreads new connections across
    them), as replicas behind a load balancer would share the load."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(LISTEN_BACKLOG)
    return sock


async def _serve(*, target: str, settings: PlatformSettings, host: str, port: int | None, reuse_port: bool) -> None:
    async with running(targets=[target], settings=settings) as runtime:
        freeze_start_up_objects()
        front = "gateway" if target == ALL else target
        module = runtime.module(front)
        app = module.app
        if app is None:
            raise click.ClickException(f"module {front} has no HTTP app")
        bind_port = port or (8000 if target == ALL else module.port)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=bind_port,
                log_config=None,
                access_log=False,
                lifespan="off",
                # Only the gateway faces clients (and perhaps a load balancer's X-Forwarded-*); a service is called
                # by the gateway alone, so it skips the forwarded-headers middleware on every request.
                proxy_headers=front == "gateway",
                # Longer than the gateway keeps pooled connections (30 s): a server that closes an idle connection
                # first races the gateway's next request on it (a reset instead of an answer).
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
            )
        )
        banner = getattr(module, "banner", None)
        if callable(banner):
            hints = {}
            for other in runtime.modules:
                demo_hint = getattr(other, "demo_hint", None)
                hint = demo_hint() if callable(demo_hint) else None
                if hint:
                    hints["atena_no"] = hint
            shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
            click.echo(banner(f"http://{shown}:{bind_port}", hints))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        await server.serve(sockets=[shared_listener(host, bind_port)] if reuse_port else None)


@main.group()
def keys() -> None:
    """Keys of the distributed form."""


@keys.command("generate")
@click.option("--out", "out", type=click.Path(file_okay=False), required=True, help="directory to write into")
def generate_keys(out: str) -> None:
    """Write the gateway's context-signing key pair (context.key private, context.pub public) and the development
    issuer's key its replicas share (dev-issuer.pem), each once."""
    from pathlib import Path

    from mimamori.kit.auth import generate_dev_issuer_key, generate_signing_key

    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    private, public, issuer = directory / "context.key", directory / "context.pub", directory / "dev-issuer.pem"
    if private.exists() and public.exists():
        click.echo("context keys exist; left as they are")
    else:
        key = generate_signing_key()
        private.write_bytes(key.as_pem(private=True))
        private.chmod(0o640)
        public.write_bytes(key.as_pem(private=False))
        click.echo(f"wrote {private} and {public}")
    if issuer.exists():
        click.echo("development issuer key exists; left as it is")
    else:
        issuer.write_bytes(generate_dev_issuer_key())
        issuer.chmod(0o640)
        click.echo(f"wrote {issuer}")
