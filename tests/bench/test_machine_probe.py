"""The machine-speed probe the gateway bench runs beside each phase (bench/machine.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import machine


def test_speed_is_the_reference_over_the_measured_time() -> None:
    reference = machine.REFERENCE_MS
    found = machine.summary([reference, 2 * reference, reference, 4 * reference])
    assert found["probes"] == 4
    assert found["probe_ms_median"] == round(1.5 * reference, 2)
    assert found["speed_median"] == round(1 / 1.5, 2)  # half as fast again as the reference
    assert found["speed_slowest"] == 0.25
    assert machine.summary([]) == {}


def test_the_probe_samples_until_told_to_stop() -> None:
    probe = machine.SpeedProbe()
    probe.start()
    time.sleep(1.2)
    began = time.monotonic()
    found = probe.stop()
    assert time.monotonic() - began < 5  # it stops when asked, not at some fixed end
    assert found["probes"] >= 2  # about two a second
    assert found["probe_ms_median"] > 0 and found["speed_median"] > 0
