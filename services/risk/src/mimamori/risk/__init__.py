"""risk: a per-child read model fed by identity's events; later rule sets, assessments and alerts."""
