"""How long the analyses take on a simulated busy day, and how much memory they need at peak.

A day of 10,000,000 events (200,000 with quick=True) is simulated once and cached under artifacts/
(git-ignored) as a gzip JSONL log and as a pickled event frame. Each measurement runs in a fresh child
process so its peak resident memory (``ru_maxrss``) is its own: one child reads the log into a frame,
another loads the frame and runs every analysis. The target (issue 7) is for the full set of analyses
on a loaded frame of the full day: under 60 s and under 6 GB. Loading the log into a frame is reported
on rows of its own and is not part of it.
"""

from __future__ import annotations

import json
import pickle
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "artifacts" / "bench"
SEED = 20261101
# A busy shop, not just the workshop room: 1,000 participants make a 3,000-product catalog.
PARTICIPANTS = 1_000
FULL, QUICK = 10_000_000, 200_000
GB = 10**9
# read_log + to_frame before its columns became integer codes and lines were decoded a block at a time.
LOAD_BEFORE = "before codes and block decoding: 16 us an event, 161 s for 10,000,000"


def _paths(events: int) -> tuple[Path, Path]:
    stem = CACHE / f"busy-day-{events}-p{PARTICIPANTS}-s{SEED}"
    return stem.with_suffix(".jsonl.gz"), stem.with_suffix(".frame.pickle")


def _ensure_log(events: int) -> Path:
    from hello_winners.game.eventlog import write_log
    from hello_winners.game.simulator import simulate

    log, _ = _paths(events)
    if not log.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = log.with_name("partial-" + log.name)
        write_log(partial, simulate(seed=SEED, participants=PARTICIPANTS, events=events))
        partial.rename(log)
    return log


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _child_load(events: int) -> dict:
    """Read the log into a frame (timed), cache the frame, report time and peak memory."""
    from hello_winners import analysis

    log, frame_path = _paths(events)
    started = time.perf_counter()
    frame = analysis.read_log_frame(log)
    seconds = time.perf_counter() - started
    with open(frame_path, "wb") as out:
        pickle.dump(frame, out, protocol=pickle.HIGHEST_PROTOCOL)
    return {"seconds": seconds, "peak": _peak_bytes(), "rows": len(frame)}


def _analyses():
    from hello_winners import analysis

    return {
        "sales_by_contributor": analysis.sales_by_contributor,
        "scores_from_frame": analysis.scores_from_frame,
        "sales_race": lambda f: analysis.sales_race(f, "merchant", top=5),
        "hot_products": analysis.hot_products,
        "trending": lambda f: analysis.trending(f, half_life="15min"),
        "also_viewed": analysis.also_viewed,
        "bought_also_bought": analysis.bought_also_bought,
        "viewed_then_bought": analysis.viewed_then_bought,
    }


def _child_analyse(events: int, repeats: int) -> dict:
    """Load the cached frame, run every analysis ``repeats`` times, report median times and peak memory."""
    _, frame_path = _paths(events)
    with open(frame_path, "rb") as cached:
        frame = pickle.load(cached)
    times = {}
    for name, analyse in _analyses().items():
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            analyse(frame)
            runs.append(time.perf_counter() - started)
        times[name] = statistics.median(runs)
    return {"seconds": times, "peak": _peak_bytes()}


def _in_child(task: str, events: int, repeats: int = 1) -> dict:
    command = [sys.executable, __file__, task, str(events), str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {task} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool) -> list[dict]:
    events = QUICK if quick else FULL
    _ensure_log(events)
    load = _in_child("load", events)
    analysed = _in_child("analyse", events, repeats=3 if quick else 1)
    label = f"{events:,} events"
    each = "median of 3" if quick else "one run"
    total = sum(analysed["seconds"].values())
    rows = [
        {"name": f"analysis: TARGET: full set of analyses on the loaded frame, {label}", "figure": round(total, 2),
         "unit": "s", "compared_with": "< 60 s target (sum of the rows below; string columns: 97 s)"},
        {"name": f"analysis: TARGET: peak memory, full set of analyses (frame loaded), {label}",
         "figure": round(analysed["peak"] / GB, 2), "unit": "GB", "compared_with": "< 6 GB target"},
    ]
    rows += [{"name": f"analysis: {name} on the loaded frame, {label}", "figure": round(seconds, 2), "unit": "s",
              "compared_with": f"part of the 60 s target, {each}"}
             for name, seconds in analysed["seconds"].items()]
    rows += [
        {"name": f"analysis: load the log into a frame (read_log + to_frame), {label}",
         "figure": round(load["seconds"], 2), "unit": "s",
         "compared_with": f"not in the target; one run; {LOAD_BEFORE}"},
        {"name": f"analysis: load the log into a frame, peak memory, {label}", "figure": round(load["peak"] / GB, 2),
         "unit": "GB", "compared_with": "not in the target; one run"},
    ]
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 4:
        task, n, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        sys.path.insert(0, str(ROOT))
        result = _child_load(n) if task == "load" else _child_analyse(n, repeats)
        print(json.dumps(result))
    else:
        for row in run(quick="--quick" in sys.argv):
            print(f"{row['name']:<72} {row['figure']:>10} {row['unit']:<4} {row['compared_with']}")
