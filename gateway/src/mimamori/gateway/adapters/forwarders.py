"""Forwarding an admitted request to its service: in-process (embedded) or over HTTP (distributed).
Both stream the request body (uploads can be large) and hand the response back as a stream."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import httpx
from fastapi import FastAPI
from yarl import URL

# Headers of a connection, not of the message (RFC 9110 §7.6.1): never passed on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "server",
        "date",
    }
)


class UpstreamUnavailable(Exception):
    """The service could not be reached, or it broke off before answering."""

    def __init__(self, service: str, why: str) -> None:
        super().__init__(f"{service}: {why}")
        self.service = service
        self.why = why


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """What goes to the service: its own path (no /api/<service>), the signed context among the headers."""

    service: str
    method: str
    raw_path: bytes
    query_string: bytes
    headers: list[tuple[str, str]]
    body: AsyncIterator[bytes] | None


@dataclass(slots=True)
class UpstreamResponse:
    """The service's answer: status and headers now, the body as it arrives; `release` when done."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: AsyncIterator[bytes]
    release: Callable[[], Awaitable[None]]


class Forwarder(Protocol):
    """Sends a request to a service and returns its streamed response."""

    async def forward(self, request: UpstreamRequest) -> UpstreamResponse:
        """Raises UpstreamUnavailable when the service cannot be reached."""

    async def close(self) -> None:
        """Release connections."""


def _response_headers(pairs: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in pairs if k.lower().decode("latin-1") not in HOP_BY_HOP]


class InProcessForwarder:
    """Calls the service apps of this process through httpx's ASGI transport (the embedded form)."""

    def __init__(self, apps: Mapping[str, FastAPI]) -> None:
        self._apps = apps  # the platform's live registry: apps of modules started later appear here too
        self._clients: dict[str, httpx.AsyncClient] = {}

    def serves(self, service: str) -> bool:
        """Whether the service runs in this process."""
        return service in self._apps and service != "gateway"

    def _client(self, service: str) -> httpx.AsyncClient:
        client = self._clients.get(service)
        if client is None:
            app = self._apps.get(service) if service != "gateway" else None
            if app is None:
                raise UpstreamUnavailable(service, "not running in this process")
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), timeout=None)
            self._clients[service] = client
        return client

    async def forward(self, request: UpstreamRequest) -> UpstreamResponse:
        """Call the service's app."""
        client = self._client(request.service)
        raw = request.raw_path + (b"?" + request.query_string if request.query_string else b"")
        outgoing = client.build_request(
            request.method,
            httpx.URL(scheme="http", host=request.service, raw_path=raw),
            headers=request.headers,
            content=request.body,
        )
        try:
            response = await client.send(outgoing, stream=True)
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(request.service, type(exc).__name__) from exc
        return UpstreamResponse(
            status=response.status_code,
            headers=_response_headers(response.headers.raw),
            body=response.aiter_raw(),
            release=response.aclose,
        )

    async def close(self) -> None:
        """Close the clients."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


class HttpForwarder:
    """Calls services over HTTP with aiohttp and one pooled connector (the distributed form)."""

    def __init__(
        self,
        *,
        upstream: Callable[[str], str | None],
        pool_size: int = 100,
        connect_timeout: float = 5.0,
        read_timeout: float = 300.0,
    ) -> None:
        self._upstream = upstream
        self._pool_size = pool_size
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=read_timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._pool_size, limit_per_host=self._pool_size, keepalive_timeout=30
                ),
                timeout=self._timeout,
                # One session serves every caller: it must not keep a cookie a service set for one of them (and
                # skipping the jar's filtering and updating is cheaper on every request).
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,  # bodies pass through as the service encoded them
                skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type"),
            )
        return self._session

    async def forward(self, request: UpstreamRequest) -> UpstreamResponse:
        """Send the request to the service's base URL."""
        base = self._upstream(request.service)
        if base is None:
            raise UpstreamUnavailable(request.service, "no upstream configured")
        raw = request.raw_path.decode("latin-1")
        if request.query_string:
            raw += "?" + request.query_string.decode("latin-1")
        url = URL(base + raw, encoded=True)
        try:
            response = await self._client().request(
                request.method,
                url,
                headers=request.headers,
                data=request.body,
                allow_redirects=False,
                compress=None,
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise UpstreamUnavailable(request.service, type(exc).__name__) from exc

        finished = False

        async def body() -> AsyncIterator[bytes]:
            nonlocal finished
            try:
                async for chunk in response.content.iter_any():
                    yield chunk
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise UpstreamUnavailable(request.service, type(exc).__name__) from exc
            finished = True

        async def release() -> None:
            # A connection whose response was not read to the end cannot be reused: close it.
            with contextlib.suppress(Exception):
                if finished:
                    response.release()
                else:
                    response.close()

        return UpstreamResponse(
            status=response.status,
            headers=_response_headers(list(response.raw_headers)),
            body=body(),
            release=release,
        )

    async def close(self) -> None:
        """Close the session and its pooled connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None


class RoutingForwarder:
    """In-process for the services of this process, HTTP for the others."""

    def __init__(self, *, local: InProcessForwarder, remote: HttpForwarder) -> None:
        self._local = local
        self._remote = remote

    async def forward(self, request: UpstreamRequest) -> UpstreamResponse:
        """Pick the way to the service."""
        if self._local.serves(request.service):
            return await self._local.forward(request)
        return await self._remote.forward(request)

    async def close(self) -> None:
        """Close both."""
        await self._local.close()
        await self._remote.close()
