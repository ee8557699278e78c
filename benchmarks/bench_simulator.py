"""How fast the simulator writes a busy day to gzip JSONL, and how much memory it needs.

Each size runs in a fresh child process so its peak resident memory (getrusage maxrss) is its own.
Targets from issue 3: 1,000,000 events in under 10 s; 10,000,000 events (one busy day) under 2 GB.
CPU seconds are reported beside wall time: on a shared machine they show the cost when wall time
mostly shows the neighbours.
"""

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from datetime import timedelta
from hello_winners.game.eventlog import write_log
from hello_winners.game.simulator import simulate
events, out = int(sys.argv[1]), sys.argv[2]
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start, started = time.perf_counter(), cpu()
count = write_log(out, simulate(seed=1, events=events, duration=timedelta(hours=24)))
seconds, spent = time.perf_counter() - start, cpu() - started
print(json.dumps({"events": count, "seconds": seconds, "cpu": spent,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
TARGET_SECONDS_1M = 10.0
TARGET_PEAK_MB = 2048.0


def measure(events, directory):
    """(events written, wall seconds, peak MB, file MB, CPU seconds) of one run in a child process."""
    out = Path(directory) / f"day-{events}.jsonl.gz"
    done = subprocess.run([sys.executable, "-c", CHILD, str(events), str(out)], check=True,
                          capture_output=True, text=True)
    figures = json.loads(done.stdout)
    size_mb = out.stat().st_size / 2**20
    out.unlink()
    return figures["events"], figures["seconds"], figures["peak_mb"], size_mb, figures["cpu"]


def run(quick: bool) -> list[dict]:
    sizes = [(100_000, 3)] if quick else [(1_000_000, 3), (10_000_000, 1)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-simulator-") as directory:
        for events, repeats in sizes:
            runs = [measure(events, directory) for _ in range(repeats)]
            seconds = statistics.median(run[1] for run in runs)
            cpu = statistics.median(run[4] for run in runs)
            peak = max(run[2] for run in runs)
            label = f"simulate {events:,} events to JSONL.gz"
            target = TARGET_SECONDS_1M * events / 1_000_000
            rows += [
                {"name": f"{label}: events/s (median of {repeats})", "figure": round(events / seconds),
                 "unit": "events/s", "compared_with": f">= {1_000_000 / TARGET_SECONDS_1M:,.0f} target"},
                {"name": f"{label}: wall time (median of {repeats})", "figure": round(seconds, 2),
                 "unit": "s", "compared_with": f"< {target:g} s target (1M in < 10 s)"},
                {"name": f"{label}: CPU time (median of {repeats})", "figure": round(cpu, 2),
                 "unit": "s", "compared_with": f"< {target:g} s target, without the neighbours' load"},
                {"name": f"{label}: peak memory", "figure": round(peak, 1), "unit": "MB",
                 "compared_with": f"< {TARGET_PEAK_MB:.0f} MB target"},
                {"name": f"{label}: file size", "figure": round(runs[0][3], 1), "unit": "MB",
                 "compared_with": "gzip level 2"},
            ]
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(f"{row['name']:<60} {row['figure']:>14,} {row['unit']:<9} {row['compared_with']}")
