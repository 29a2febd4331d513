"""The JSON Schema of a rule document (YAML as staff write it); `language.parse_rule` validates against it."""

from __future__ import annotations

from typing import Any

KINDS = [
    "entitlement",
    "certificate",
    "service_decision",
    "nursery_enrolment",
    "health_check",
    "pregnancy",
    "school_roll",
    "attendance",
    "nurse_room_visit",
    "consultation",
    "abuse_report",
    "welfare_case",
    "school_aid",
    "support_centre_visit",
]
RELATIONS = ["child", "parents", "younger_siblings", "siblings", "household", "child_or_parents"]
WINDOWS = ["assessment_month", "month_before", "last_12_months", "school_year", "until_D"]

_NUMBER: dict[str, Any] = {
    "description": "an integer, or a parameter of the rule: {param: name}",
    "oneOf": [
        {"type": "integer"},
        {
            "type": "object",
            "properties": {"param": {"type": "string"}},
            "required": ["param"],
            "additionalProperties": False,
        },
    ],
}

_MATCH_VALUE: dict[str, Any] = {
    "oneOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
        {
            "type": "object",
            "properties": {"at_least": _NUMBER, "at_most": _NUMBER},
            "minProperties": 1,
            "additionalProperties": False,
        },
    ]
}

_SELECT: dict[str, Any] = {
    "type": "object",
    "description": "which facts: of which kind, naming whom, with which values, active on D or within a window",
    "properties": {
        "kind": {"enum": KINDS},
        "of": {"enum": RELATIONS},
        "role": {"type": "string", "description": "the person must be named in this role (e.g. recipient)"},
        "match": {"type": "object", "additionalProperties": _MATCH_VALUE},
        "active": {
            "type": "object",
            "properties": {
                "start": {"type": "string"},
                "end": {"type": "string"},
                "end_is": {"enum": ["exclusive", "inclusive", "inclusive_month"]},
            },
            "required": ["end_is"],
            "additionalProperties": False,
        },
        "window": {"enum": WINDOWS},
        "date": {"type": "string", "description": "the date field the window applies to (default: date)"},
        "distinct": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["kind", "of"],
    "additionalProperties": False,
}

_CONDITION: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {
        "fact": _SELECT,
        "count": {
            "type": "object",
            "properties": {"select": _SELECT, "window": {"enum": WINDOWS}, "at_least": _NUMBER},
            "required": ["select", "at_least"],
            "additionalProperties": False,
        },
        "change": {
            "type": "object",
            "properties": {
                "select": _SELECT,
                "from": {"enum": WINDOWS},
                "to": {"enum": WINDOWS},
                "increase_at_least": _NUMBER,
            },
            "required": ["select", "from", "to", "increase_at_least"],
            "additionalProperties": False,
        },
        "family": {
            "type": "object",
            "properties": {
                "single_parent": {"type": "boolean"},
                "parents_at_least": {"type": "integer", "minimum": 0},
            },
            "minProperties": 1,
            "additionalProperties": False,
        },
        "all": {"type": "array", "items": {"$ref": "#/$defs/condition"}, "minItems": 1},
        "any": {"type": "array", "items": {"$ref": "#/$defs/condition"}, "minItems": 1},
        "not": {"$ref": "#/$defs/condition"},
    },
    "additionalProperties": False,
}

_ID = {"type": "string", "pattern": "^[a-z][a-z0-9_-]*$"}

RULE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Mimamori risk rule",
    "type": "object",
    "$defs": {"condition": _CONDITION},
    "properties": {
        "rule": _ID,
        "version": {"type": "integer", "minimum": 1},
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "starting_point": {
            "type": "boolean",
            "description": "true: indicators to be validated by staff, not yet a validated rule",
        },
        "population": {
            "type": "object",
            "properties": {
                "kind": {"enum": ["school_roll", "children"]},
                "min_age": {"type": "integer", "minimum": 0},
                "max_age": {"type": "integer", "minimum": 0},
            },
            "required": ["kind"],
            "additionalProperties": False,
        },
        "parameters": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"value": {"type": "integer"}, "title": {"type": "string"}},
                "required": ["value"],
                "additionalProperties": False,
            },
        },
        "subscores": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "id": _ID,
                    "title": {"type": "string"},
                    "combine": {"enum": ["sum", "max_plus_sum", "combination"]},
                    "none_points": _NUMBER,
                    "items": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": _ID,
                                "title": {"type": "string"},
                                "group": {"type": "string"},
                                "points": _NUMBER,
                                "when": {"$ref": "#/$defs/condition"},
                            },
                            "required": ["id", "title", "points", "when"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["id", "title", "combine", "items"],
                "additionalProperties": False,
            },
        },
        "gate": {
            "type": "object",
            "description": "not a candidate unless the sum of these sub-scores reaches min",
            "properties": {"subscores": {"type": "array", "items": _ID, "minItems": 1}, "min": {"type": "integer"}},
            "required": ["subscores", "min"],
            "additionalProperties": False,
        },
        "alert_at": {
            **_NUMBER,
            "description": "a total at or above this is a band of its own: crossing it raises an alert",
        },
    },
    "required": ["rule", "version", "title", "population", "subscores"],
    "additionalProperties": False,
}
