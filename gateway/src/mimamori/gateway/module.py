"""The gateway as a module of the platform: it starts last, in front of every service of the process."""

from __future__ import annotations

from fastapi import FastAPI

from mimamori.gateway.adapters.forwarders import Forwarder
from mimamori.gateway.adapters.tokens import JwksSource
from mimamori.gateway.bootstrap import Gateway, bootstrap
from mimamori.gateway.config import GatewaySettings
from mimamori.gateway.domain.policy import Policy
from mimamori.kit.runtime.module import Platform
from mimamori.kit.runtime.service import ServiceModule
from mimamori.kit.unit_of_work import UnitOfWork


class GatewayModule(ServiceModule):
    """The API gateway. Its database holds only its outbox: decisions on their way to the audit ledger."""

    name = "gateway"
    dependencies = ("ingest", "identity", "risk", "casework", "audit")
    migrations = "mimamori.gateway:migrations"

    def __init__(
        self,
        *,
        settings: GatewaySettings | None = None,
        policy: Policy | None = None,
        jwks: JwksSource | None = None,
        forwarder: Forwarder | None = None,
    ) -> None:
        self.settings = settings or GatewaySettings()
        self.port = self.settings.port
        # Every request is a decision to relay: relaying them in batches keeps the relay off the hot path.
        self.outbox_linger = self.settings.outbox_linger_seconds
        self._policy = policy
        self._jwks = jwks
        self._forwarder = forwarder
        self.gateway: Gateway | None = None
        super().__init__()

    async def bootstrap(self, platform: Platform) -> FastAPI:
        assert self.sessions is not None and self.outbox is not None
        self.gateway = bootstrap(
            platform=platform,
            settings=self.settings,
            uow=self.unit_of_work,
            policy=self._policy,
            jwks=self._jwks,
            forwarder=self._forwarder,
        )
        return self.gateway.app

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work on the gateway's database, whose only change is decisions in its outbox: autocommit, so a
        group of decisions is one INSERT round trip (no BEGIN/COMMIT)."""
        assert self.sessions is not None and self.outbox is not None and self.platform is not None
        return UnitOfWork(
            sessions=self.sessions,
            outbox=self.outbox,
            inbox=self.inbox_table,
            source=self.name,
            municipality=self.platform.settings.municipality_code,
            autocommit=True,
        )

    async def on_stop(self) -> None:
        if self.gateway is not None:
            await self.gateway.close()

    def banner(self, url: str, hints: dict[str, str] | None = None) -> str:
        """What `mimamori run` prints at start: where the API is and how to make a first request.

        `hints` come from other modules (e.g. ingest's demo child, `atena_no`) through the runtime."""
        base = url.rstrip("/")
        lines = [f"Mimamori API gateway: {base}  (API description: {base}/openapi.json)"]
        issuer = self.gateway.dev_issuer if self.gateway is not None else None
        if issuer is None:
            lines.append(f"Tokens: from {self.settings.issuer} (audience {self.settings.audience})")
            return "\n".join(lines)
        users = ", ".join(issuer.users)
        token = f"{base}/dev-oidc/token"
        lines += [
            "",
            "DEVELOPMENT sign-in (never enabled in production):",
            f"  demo users, one per role: {users}",
            '  password of every demo user: "demo"',
            "",
            "List the demo users:",
            f"  curl -s {base}/dev-oidc/users",
            "",
            "Get a token (here for caseworker1):",
            f"  TOKEN=$(curl -s -X POST {token} \\",
            "      -d grant_type=password -d username=caseworker1 -d password=demo \\",
            "      | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
        ]
        atena = (hints or {}).get("atena_no")
        if atena:
            lines += ["", f"A demo child of the synthetic town has 宛名番号 {atena}:", f"  ATENA={atena}"]
        else:
            lines += ["", "ATENA = a 10-digit 宛名番号 of a resident:"]
        auth = '-H "Authorization: Bearer $TOKEN" -H "X-Purpose: case_support"'
        auditor = '-H "Authorization: Bearer $AUDITOR" -H "X-Purpose: audit_disclosure"'
        observations = f"{base}/api/casework/v1/persons/$PERSON/observations"
        lines += [
            "",
            "Find the person for 個別ケース支援 (case_support):",
            f'  PERSON=$(curl -s {auth} "{base}/api/identity/v1/persons?atena_no=$ATENA" \\',
            '      | python3 -c \'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])\')',
            "",
            "Record a 見守り情報 about them, then read it back:",
            f"  curl -s -X POST {auth} -H 'Content-Type: application/json' \\",
            '      -d \'{"category": "家庭訪問", "text": "母親と面談。", "observed_on": "\'$(date +%F)\'"}\' \\',
            f'      "{observations}"',
            f'  curl -s {auth} "{observations}"',
            "",
            "Every access is in the audit ledger: as auditor1 (purpose audit_disclosure), verify it:",
            f"  AUDITOR=$(curl -s -X POST {token} -d grant_type=password -d username=auditor1 -d password=demo \\",
            "      | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
            f"  curl -s {auditor} {base}/api/audit/v1/verify",
            f'  curl -s {auditor} "{base}/api/audit/v1/entries?limit=20"',
        ]
        return "\n".join(lines)


def create_module() -> GatewayModule:
    """Entry point `mimamori.modules: gateway`."""
    return GatewayModule()
