"""The rule language: staff-readable YAML, validated, evaluated with an explanation."""
