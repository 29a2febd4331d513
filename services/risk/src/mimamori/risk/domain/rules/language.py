"""Rule documents: YAML that staff read and revise, checked against the schema and for meaning, then parsed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

from mimamori.risk.domain.facts import RESTRICTED_KINDS
from mimamori.risk.domain.rules.schema import RULE_SCHEMA


class RuleInvalid(ValueError):
    """A rule document that does not validate; `errors` lists each problem as `where: what`."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Number:
    """A number in a rule: a literal, or a named parameter (□) resolved to its value."""

    value: int
    param: str | None = None


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """A field equal to one of `values`, or within `at_least`/`at_most` when numeric bounds are given."""

    name: str
    values: tuple[str, ...] = ()
    at_least: Number | None = None
    at_most: Number | None = None


@dataclass(frozen=True, slots=True)
class Active:
    """Active on D: start ≤ D, and D before an exclusive end / on or before an inclusive end."""

    start: str | None
    end: str | None
    end_is: str


@dataclass(frozen=True, slots=True)
class Select:
    """Which facts a condition looks at."""

    kind: str
    of: str
    role: str | None = None
    match: tuple[FieldMatch, ...] = ()
    active: Active | None = None
    window: str | None = None
    date: str = "date"
    distinct: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FactExists:
    """At least one selected fact."""

    select: Select


@dataclass(frozen=True, slots=True)
class CountAtLeast:
    """At least `at_least` distinct selected facts in a window."""

    select: Select
    window: str | None
    at_least: Number


@dataclass(frozen=True, slots=True)
class Increase:
    """The count in `to` exceeds the count in `since` by at least `at_least`."""

    select: Select
    since: str
    to: str
    at_least: Number


@dataclass(frozen=True, slots=True)
class Family:
    """A condition on the household: ひとり親, or a number of parents."""

    single_parent: bool | None = None
    parents_at_least: int | None = None


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every condition holds."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one condition holds."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class NoneOf:
    """The condition does not hold."""

    condition: Condition


Condition = FactExists | CountAtLeast | Increase | Family | AllOf | AnyOf | NoneOf


@dataclass(frozen=True, slots=True)
class Item:
    """A condition that gives points."""

    id: str
    title: str
    points: Number
    when: Condition
    group: str | None = None


@dataclass(frozen=True, slots=True)
class SubScore:
    """Items combined by sum, max-plus-sum (max within each group, summed) or combination (none → points)."""

    id: str
    title: str
    combine: str
    items: tuple[Item, ...]
    none_points: Number | None = None


@dataclass(frozen=True, slots=True)
class Gate:
    """Not a candidate unless the named sub-scores sum to at least `min`."""

    subscores: tuple[str, ...]
    min: int


@dataclass(frozen=True, slots=True)
class Population:
    """Who is scored: children on the month's school roll, or every child of a household (by age)."""

    kind: str
    min_age: int | None = None
    max_age: int | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One version of a rule, with the text it was parsed from."""

    id: str
    version: int
    title: str
    population: Population
    subscores: tuple[SubScore, ...]
    parameters: Mapping[str, int] = field(default_factory=dict)
    gate: Gate | None = None
    alert_at: Number | None = None
    starting_point: bool = False
    description: str = ""
    text: str = ""

    @property
    def digest(self) -> str:
        """SHA-256 of the document's text."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def parse_rule(text: str) -> Rule:
    """Parse and validate a rule document; raises RuleInvalid with every problem found."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.line + 1}行{mark.column + 1}列" if mark is not None else "YAML"
        raise RuleInvalid([f"{where}: YAMLとして読めません ({getattr(exc, 'problem', exc)})"]) from exc
    if not isinstance(document, dict):
        raise RuleInvalid(["(文書): ルールはYAMLのマッピング (キー: 値) で書いてください"])
    validator = jsonschema.Draft202012Validator(RULE_SCHEMA)
    errors = [f"{_where(e.absolute_path)}: {_message(e)}" for e in validator.iter_errors(document)]
    if errors:
        raise RuleInvalid(sorted(errors))
    return _Builder(document, text).build()


def _where(path: Any) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in path]
    return ("".join(parts)).lstrip(".") or "(文書)"


def _message(error: Any) -> str:
    if error.validator == "required":
        return f"必須の項目がありません ({error.message})"
    if error.validator == "additionalProperties":
        return f"使えない項目があります ({error.message})"
    if error.validator == "enum":
        return f"{error.instance!r} は使えません。使える値: {', '.join(map(str, error.validator_value))}"
    if error.validator in {"oneOf", "anyOf"}:
        return f"書き方が正しくありません ({error.instance!r})"
    if error.validator == "type":
        return f"{error.instance!r} の型が違います (期待: {error.validator_value})"
    if error.validator in {"minProperties", "maxProperties"}:
        return "条件はキーを1つだけ書いてください (fact, count, change, family, all, any, not)"
    return str(error.message)


class _Builder:
    """Turns a schema-valid document into a Rule, collecting the errors of meaning."""

    def __init__(self, document: dict[str, Any], text: str) -> None:
        self.document = document
        self.text = text
        self.errors: list[str] = []
        self.parameters = {name: int(spec["value"]) for name, spec in document.get("parameters", {}).items()}

    def build(self) -> Rule:
        d = self.document
        subscores = tuple(self._subscore(s, f"subscores[{i}]") for i, s in enumerate(d["subscores"]))
        ids = [s.id for s in subscores]
        if len(set(ids)) != len(ids):
            self.errors.append("subscores: 小計のidが重複しています")
        item_ids = [i.id for s in subscores for i in s.items]
        if len(set(item_ids)) != len(item_ids):
            self.errors.append("subscores: 項目のidが重複しています")
        gate = None
        if "gate" in d:
            gate = Gate(subscores=tuple(d["gate"]["subscores"]), min=int(d["gate"]["min"]))
            for name in gate.subscores:
                if name not in ids:
                    self.errors.append(f"gate.subscores: 小計 {name!r} がありません")
        alert_at = self._number(d["alert_at"], "alert_at") if "alert_at" in d else None
        population = Population(
            kind=d["population"]["kind"],
            min_age=d["population"].get("min_age"),
            max_age=d["population"].get("max_age"),
        )
        if self.errors:
            raise RuleInvalid(self.errors)
        return Rule(
            id=d["rule"],
            version=int(d["version"]),
            title=d["title"],
            description=d.get("description", ""),
            starting_point=bool(d.get("starting_point", False)),
            population=population,
            parameters=self.parameters,
            subscores=subscores,
            gate=gate,
            alert_at=alert_at,
            text=self.text,
        )

    def _number(self, raw: Any, where: str) -> Number:
        if isinstance(raw, dict):
            name = raw["param"]
            if name not in self.parameters:
                self.errors.append(f"{where}: パラメータ {name!r} が parameters に定義されていません")
                return Number(0, name)
            return Number(self.parameters[name], name)
        return Number(int(raw))

    def _subscore(self, raw: dict[str, Any], where: str) -> SubScore:
        items = tuple(self._item(it, f"{where}.items[{i}]") for i, it in enumerate(raw["items"]))
        none_points = self._number(raw["none_points"], f"{where}.none_points") if "none_points" in raw else None
        if raw["combine"] == "combination" and none_points is None:
            self.errors.append(f"{where}: combination には none_points (どれもないときの点) が必要です")
        return SubScore(id=raw["id"], title=raw["title"], combine=raw["combine"], items=items, none_points=none_points)

    def _item(self, raw: dict[str, Any], where: str) -> Item:
        return Item(
            id=raw["id"],
            title=raw["title"],
            group=raw.get("group"),
            points=self._number(raw["points"], f"{where}.points"),
            when=self._condition(raw["when"], f"{where}.when"),
        )

    def _condition(self, raw: dict[str, Any], where: str) -> Condition:
        ((key, body),) = raw.items()
        at = f"{where}.{key}"
        if key == "fact":
            return FactExists(self._select(body, at))
        if key == "count":
            return CountAtLeast(
                select=self._select(body["select"], f"{at}.select"),
                window=body.get("window"),
                at_least=self._number(body["at_least"], f"{at}.at_least"),
            )
        if key == "change":
            return Increase(
                select=self._select(body["select"], f"{at}.select"),
                since=body["from"],
                to=body["to"],
                at_least=self._number(body["increase_at_least"], f"{at}.increase_at_least"),
            )
        if key == "family":
            return Family(single_parent=body.get("single_parent"), parents_at_least=body.get("parents_at_least"))
        if key == "all":
            return AllOf(tuple(self._condition(c, f"{at}[{i}]") for i, c in enumerate(body)))
        if key == "any":
            return AnyOf(tuple(self._condition(c, f"{at}[{i}]") for i, c in enumerate(body)))
        return NoneOf(self._condition(body, at))

    def _select(self, raw: dict[str, Any], where: str) -> Select:
        if raw["kind"] in RESTRICTED_KINDS:
            self.errors.append(f"{where}.kind: 税情報はリスク判定に使えません (受給要件の確認だけに使えます)")
        matches = []
        for name, value in raw.get("match", {}).items():
            if isinstance(value, dict):
                matches.append(
                    FieldMatch(
                        name=name,
                        at_least=self._number(value["at_least"], f"{where}.match.{name}")
                        if "at_least" in value
                        else None,
                        at_most=self._number(value["at_most"], f"{where}.match.{name}") if "at_most" in value else None,
                    )
                )
            else:
                values = (value,) if isinstance(value, str) else tuple(value)
                matches.append(FieldMatch(name=name, values=values))
        active = None
        if "active" in raw:
            a = raw["active"]
            active = Active(start=a.get("start"), end=a.get("end"), end_is=a["end_is"])
        return Select(
            kind=raw["kind"],
            of=raw["of"],
            role=raw.get("role"),
            match=tuple(matches),
            active=active,
            window=raw.get("window"),
            date=raw.get("date", "date"),
            distinct=tuple(raw.get("distinct", ())),
        )
