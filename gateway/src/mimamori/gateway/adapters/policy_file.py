"""Reading the policy file: YAML in the package (policy/policy.yaml) unless settings name another file."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import ValidationError

from mimamori.gateway.domain.policy import Policy


class PolicyError(ValueError):
    """The policy file cannot be read or does not fit the policy model."""


def bundled_policy_text() -> str:
    """The policy shipped with the gateway."""
    return (files("mimamori.gateway") / "policy" / "policy.yaml").read_text(encoding="utf-8")


def parse_policy(text: str, *, source: str) -> Policy:
    """A policy from YAML text; the error names the file and every field that does not fit."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy {source} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"policy {source} must be a mapping with version, purposes, roles, routes")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise PolicyError(f"policy {source} is invalid: {problems}") from exc


def load_policy(path: Path | None = None) -> Policy:
    """The policy at `path`, or the bundled one."""
    if path is None:
        return parse_policy(bundled_policy_text(), source="mimamori.gateway/policy/policy.yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"policy {path} cannot be read: {exc.strerror}") from exc
    return parse_policy(text, source=str(path))
