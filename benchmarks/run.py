"""Run every benchmark of the kit and print one table.

Each benchmarks/bench_*.py defines ``run(quick: bool) -> list[dict]`` whose rows have a name, a figure,
its unit and the figure it is compared with (a target or a baseline). Benchmarks are not tests and
never run in CI: these machines are noisy, so rows quote medians and ratios.

    python benchmarks/run.py            # every benchmark, full size
    python benchmarks/run.py --quick    # small inputs, a smoke run
    python benchmarks/run.py consumer   # only bench_consumer.py
    python benchmarks/run.py mutation   # the mutation score: only when named, about 17 min on 2 cores
"""

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Benchmarks that run only when named: the mutation score reruns tests for every mutant.
WHEN_NAMED = {"mutation"}


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table(rows):
    headers = ("benchmark", "name", "figure", "unit", "compared with")
    cells = [(r["benchmark"], r["name"], _figure(r["figure"]), r["unit"], r["compared_with"]) for r in rows]
    widths = [max(len(str(c[i])) for c in [headers, *cells]) for i in range(len(headers))]

    def line(values):
        # The figure column is right-aligned so magnitudes line up.
        return "  ".join(str(v).rjust(w) if i == 2 else str(v).ljust(w) for i, (v, w) in enumerate(zip(values, widths)))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])


def _figure(value):
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="benchmark names (bench_NAME.py) to run; default all")
    parser.add_argument("--quick", action="store_true", help="small inputs, for a smoke run")
    args = parser.parse_args(argv)
    files = sorted(HERE.glob("bench_*.py"))
    if args.only:
        files = [f for f in files if f.stem.removeprefix("bench_") in args.only]
    else:
        files = [f for f in files if f.stem.removeprefix("bench_") not in WHEN_NAMED]
    rows, previous = [], tempfile.tempdir
    # Every folder a benchmark makes (state folders of up to 10 MB: logs, tables, photos) goes when the run ends.
    with tempfile.TemporaryDirectory(prefix="hello-winners-benchmarks-", ignore_cleanup_errors=True) as scratch:
        tempfile.tempdir = scratch
        try:
            for path in files:
                name = path.stem.removeprefix("bench_")
                print(f"running {name} ...", file=sys.stderr, flush=True)
                started = time.perf_counter()
                for row in load(path).run(quick=args.quick):
                    rows.append({"benchmark": name, **row})
                print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        finally:
            tempfile.tempdir = previous
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
