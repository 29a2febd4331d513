"""How fast the machine's cores are while a bench runs, so that runs can be compared.

On a shared virtual machine the same CPU-bound work does not take the same CPU time from one moment to the next,
because other tenants share the physical cores. Measured here (2026-11-26, the idle 2-core VM): this probe's fixed
workload took 3.9 ms of CPU in one half-second and 7.2 ms in the next, flipping back and forth, and a 3-million-step
loop took 321–493 ms run to run. CPU time per request and latency move with it. The probe times a fixed
workload in its own process, about every half second, by the CPU time it used (not wall time): waiting for a core
behind the bench's own processes does not count, a slower core does. 1.0 is the speed of the reference below;
0.7 means the same work took 1/0.7 times as long.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from typing import Any

# CPU ms of one probe workload on this machine at its best observed speed (2026-11-26, idle: 3.9 ms, and 7.2 ms in
# its slow moments).
REFERENCE_MS = 3.9

PROBE = r"""
import json, select, sys, time
def work():
    total = 0
    for i in range(100_000):
        total += i * i
    return total
samples = []
while True:
    start = time.thread_time()
    work()
    samples.append((time.thread_time() - start) * 1000)
    if select.select([sys.stdin], [], [], 0.5)[0]:  # told to stop (or half a second on)
        break
print(json.dumps(samples))
"""


class SpeedProbe:
    """Times the fixed workload in a separate process while a phase runs (about 1% of one core)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", PROBE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def stop(self) -> dict[str, Any]:
        """The machine's speed over the phase, relative to REFERENCE_MS (median, and the slowest probe)."""
        assert self._process is not None
        out, _ = self._process.communicate("stop\n", timeout=30)
        self._process = None
        samples: list[float] = json.loads(out)
        return summary(samples)


def summary(samples: list[float]) -> dict[str, Any]:
    """Speed factors (reference / measured) of probe samples: median and slowest."""
    if not samples:
        return {}
    return {
        "probes": len(samples),
        "probe_ms_median": round(statistics.median(samples), 2),
        "speed_median": round(REFERENCE_MS / statistics.median(samples), 2),
        "speed_slowest": round(REFERENCE_MS / max(samples), 2),
    }


if __name__ == "__main__":
    # python bench/machine.py [seconds]: the machine's speed now, idle.
    import time

    probe = SpeedProbe()
    probe.start()
    time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 10)
    print(json.dumps(probe.stop()))
