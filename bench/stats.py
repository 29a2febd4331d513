"""Percentiles of measured latencies, shared by the benchmarks (nearest rank on the sorted values)."""

from __future__ import annotations


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
