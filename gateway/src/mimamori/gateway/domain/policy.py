"""The access policy as data: the purpose registry (個人情報ファイル簿), roles, which role may use which
purpose (利用目的), and which purposes and roles each route of the API admits. Pure: no HTTP, no files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
RESERVED_SERVICES = frozenset({"gateway"})
_SEGMENT = re.compile(r"^(?:\{[a-z_][a-z0-9_]*\}|[A-Za-z0-9._~-]+)$")
_PARAMETER = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")


class Purpose(BaseModel):
    """A registered purpose of use and what data it may see."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    name: str = Field(min_length=1, description="日本語名 as in the 個人情報ファイル簿")
    description: str
    may_see_tax_data: bool
    may_see_personal_content: bool
    pseudonyms_only: bool


class Role(BaseModel):
    """A job role as it appears in the token's roles claim."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    name: str = Field(min_length=1, description="日本語名")


class RouteRule(BaseModel):
    """One route of the API: who may call it, for which purposes, and whether it touches personal data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(description="template under /api/<service>/, parameters as {name}")
    purposes: tuple[str, ...] = Field(min_length=1)
    roles: tuple[str, ...] | None = Field(default=None, description="None: any role that may use the purpose")
    personal: bool
    summary: str = ""

    @model_validator(mode="after")
    def _path_belongs_to_service(self) -> RouteRule:
        prefix = f"/api/{self.service}/"
        if not self.path.startswith(prefix) or len(self.path) == len(prefix):
            raise ValueError(f"route {self.method} {self.path}: path must start with {prefix}")
        segments = self.path.split("/")[1:]
        bad = [s for s in segments if not _SEGMENT.match(s)]
        if bad:
            raise ValueError(f"route {self.method} {self.path}: bad path segment(s) {bad}")
        names = [m.group(1) for s in segments if (m := _PARAMETER.match(s))]
        if len(names) != len(set(names)):
            raise ValueError(f"route {self.method} {self.path}: repeated path parameter")
        return self


class BreakGlass(BaseModel):
    """Who may assert emergency access (緊急時アクセス), for which purposes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: tuple[str, ...]
    purposes: tuple[str, ...]
    max_reason_length: int = Field(default=500, ge=10, le=2000)


class Policy(BaseModel):
    """The whole policy; loading fails with a message naming what does not fit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    purposes: tuple[Purpose, ...] = Field(min_length=1)
    roles: tuple[Role, ...] = Field(min_length=1)
    role_purposes: dict[str, tuple[str, ...]]
    break_glass: BreakGlass
    routes: tuple[RouteRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> Policy:
        purposes = [p.code for p in self.purposes]
        roles = [r.code for r in self.roles]
        errors: list[str] = []
        for kind, codes in (("purpose", purposes), ("role", roles)):
            duplicates = sorted({c for c in codes if codes.count(c) > 1})
            if duplicates:
                errors.append(f"duplicate {kind} code(s): {duplicates}")
        known_purposes, known_roles = set(purposes), set(roles)
        missing_roles = sorted(known_roles - set(self.role_purposes))
        if missing_roles:
            errors.append(f"role_purposes lacks role(s): {missing_roles}")
        for role, allowed in self.role_purposes.items():
            if role not in known_roles:
                errors.append(f"role_purposes names unknown role {role!r}")
            unknown = sorted(set(allowed) - known_purposes)
            if unknown:
                errors.append(f"role_purposes[{role}] names unknown purpose(s) {unknown}")
        unknown = sorted(set(self.break_glass.roles) - known_roles) + sorted(
            set(self.break_glass.purposes) - known_purposes
        )
        if unknown:
            errors.append(f"break_glass names unknown code(s) {unknown}")
        seen: set[tuple[str, str]] = set()
        for route in self.routes:
            where = f"route {route.method} {route.path}"
            if route.service in RESERVED_SERVICES:
                errors.append(f"{where}: service {route.service!r} is reserved")
            if (route.method, _shape(route.path)) in seen:
                errors.append(f"{where}: declared twice")
            seen.add((route.method, _shape(route.path)))
            unknown = sorted(set(route.purposes) - known_purposes)
            if unknown:
                errors.append(f"{where}: unknown purpose(s) {unknown}")
            unknown = sorted(set(route.roles or ()) - known_roles)
            if unknown:
                errors.append(f"{where}: unknown role(s) {unknown}")
        if errors:
            raise ValueError("; ".join(errors))
        return self


def _shape(path: str) -> str:
    """A template with its parameter names erased, so /x/{a} and /x/{b} count as the same route."""
    return "/".join("{}" if _PARAMETER.match(s) else s for s in path.split("/"))


# Machine codes of the decisions, as problem `code` and as the audit event's `reason`.
INVALID_TOKEN = "invalid_token"
ROUTE_NOT_FOUND = "route_not_found"
PURPOSE_REQUIRED = "purpose_required"
PURPOSE_UNKNOWN = "purpose_unknown"
PURPOSE_NOT_ALLOWED = "purpose_not_allowed"
ROLE_NOT_ALLOWED = "role_not_allowed"
BREAK_GLASS_NOT_ALLOWED = "break_glass_not_allowed"
RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The policy's answer: allowed (denial == '') or not, under which purpose, by break-glass or not."""

    denial: str
    purpose: str = ""
    break_glass: bool = False

    @property
    def allowed(self) -> bool:
        """Whether the request may pass."""
        return not self.denial


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    """A route rule with its matcher and its sets, built once."""

    rule: RouteRule
    key: str  # "METHOD /api/..." (the template), the route in spans and audit events
    purposes: frozenset[str]
    roles: frozenset[str] | None
    literal: tuple[str, ...]  # path segments, "" where a parameter stands
    parameters: tuple[tuple[int, str], ...]  # (segment index, name)

    def bind(self, segments: list[str]) -> dict[str, str] | None:
        """The path parameters when these segments fit the template, else None."""
        if len(segments) != len(self.literal):
            return None
        for i, part in enumerate(self.literal):
            if part and part != segments[i]:
                return None
        params: dict[str, str] = {}
        for i, name in self.parameters:
            # Dot segments would be normalised away by an HTTP client: another route than the one checked.
            if segments[i] in ("", ".", ".."):
                return None
            params[name] = segments[i]
        return params


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A request path matched to its route, with the parameters it bound."""

    route: CompiledRoute
    params: dict[str, str]


class PolicyIndex:
    """The policy compiled for the hot path: routes by (method, segment count), decisions memoised."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.purposes = {p.code: p for p in policy.purposes}
        self.roles = {r.code: r for r in policy.roles}
        self.role_purposes = {role: frozenset(purposes) for role, purposes in policy.role_purposes.items()}
        self.break_glass_roles = frozenset(policy.break_glass.roles)
        self.break_glass_purposes = frozenset(policy.break_glass.purposes)
        self._exact: dict[tuple[str, str], RouteMatch] = {}
        self._templates: dict[tuple[str, int], list[CompiledRoute]] = {}
        for rule in policy.routes:
            segments = rule.path.split("/")[1:]
            compiled = CompiledRoute(
                rule=rule,
                key=f"{rule.method} {rule.path}",
                purposes=frozenset(rule.purposes),
                roles=frozenset(rule.roles) if rule.roles is not None else None,
                literal=tuple("" if _PARAMETER.match(s) else s for s in segments),
                parameters=tuple((i, m.group(1)) for i, s in enumerate(segments) if (m := _PARAMETER.match(s))),
            )
            if not compiled.parameters:
                self._exact[(rule.method, rule.path)] = RouteMatch(route=compiled, params={})
            else:
                self._templates.setdefault((rule.method, len(segments)), []).append(compiled)
        for candidates in self._templates.values():
            # The template with more literal segments wins: /persons/search before /persons/{person_id}.
            candidates.sort(key=lambda c: -sum(1 for s in c.literal if s))
        self._verdicts: dict[tuple[str, frozenset[str], str, bool], Verdict] = {}

    @property
    def version(self) -> str:
        """The policy's version, as written in the file."""
        return self.policy.version

    def routes(self) -> list[CompiledRoute]:
        """Every route, in file order."""
        by_key = {m.route.key: m.route for m in self._exact.values()}
        by_key.update({c.key: c for cs in self._templates.values() for c in cs})
        return [by_key[f"{r.method} {r.path}"] for r in self.policy.routes]

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The route a request path falls under, or None."""
        exact = self._exact.get((method, path))
        if exact is not None:
            return exact
        segments = path.split("/")[1:]
        for candidate in self._templates.get((method, len(segments)), ()):
            params = candidate.bind(segments)
            if params is not None:
                return RouteMatch(route=candidate, params=params)
        return None

    def decide(self, *, route: CompiledRoute, roles: frozenset[str], purpose: str | None, break_glass: bool) -> Verdict:
        """May someone holding these roles use this route for this declared purpose (None: not declared)?"""
        key = (route.key, roles, purpose or "", break_glass)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._decide(route=route, roles=roles, purpose=purpose, break_glass=break_glass)
            if len(self._verdicts) < 100_000:
                self._verdicts[key] = verdict
        return verdict

    def _decide(
        self, *, route: CompiledRoute, roles: frozenset[str], purpose: str | None, break_glass: bool
    ) -> Verdict:
        usable = frozenset().union(*(self.role_purposes.get(r, frozenset()) for r in roles))
        if purpose is None:
            if route.rule.personal:
                return Verdict(PURPOSE_REQUIRED)
            # A route without personal data may omit the purpose when only one could apply.
            candidates = usable & route.purposes
            if len(candidates) != 1:
                return Verdict(PURPOSE_REQUIRED)
            (purpose,) = candidates
        if purpose not in self.purposes:
            return Verdict(PURPOSE_UNKNOWN)
        if purpose not in usable or purpose not in route.purposes:
            return Verdict(PURPOSE_NOT_ALLOWED, purpose)
        role_fits = route.roles is None or bool(route.roles & roles)
        if break_glass:
            if not (roles & self.break_glass_roles) or purpose not in self.break_glass_purposes:
                return Verdict(BREAK_GLASS_NOT_ALLOWED, purpose)
            return Verdict("", purpose, break_glass=True)
        if not role_fits:
            return Verdict(ROLE_NOT_ALLOWED, purpose)
        return Verdict("", purpose)
