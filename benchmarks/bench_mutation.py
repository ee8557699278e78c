"""A mutation score for the modules whose rules the workshop depends on: how many planted bugs the tests catch.

mutmut (3.x) rewrites each module into many mutants (a ``<`` made ``<=``, a value made ``None``, a
string changed) and runs the tests that reach the mutated function against each: a mutant the tests
fail on is killed, one they pass is a bug nobody would notice. mutmut rather than cosmic-ray: it runs
only the tests that cover a mutant's function (a module takes minutes, not hours, on two cores), and
keeps each result beside the source, so a survivor is one ``mutmut show`` away.

Each module runs in a scratch copy of the checkout with its own ``[tool.mutmut]`` settings; only the
pure tier's tests run (the embedded ones start servers from the installed checkout, which would test
the unmutated code). The target is 90 % killed per module; every survivor is printed with its diff,
to be killed by a new test or named in the closing note as equivalent, with the reason. Each run also
writes its survivors and untested mutants, with their diffs, to ``artifacts/mutation/<module>.txt``
(git-ignored), so the next person can read them without rerunning.

    python benchmarks/run.py mutation                 # every module
    python benchmarks/bench_mutation.py fold events   # some, by the names below, with the survivors' diffs
    python benchmarks/bench_mutation.py --workers 1 api  # one test process at a time: the machine is shared
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "mutation"
TARGET = 90.0
# name: (files to mutate, tests that exercise them)
MODULES = {
    "fold": (["hello_winners/view/fold.py"],
             ["tests/test_fold.py", "tests/test_consumer.py", "tests/test_consumer_properties.py"]),
    "requests": (["hello_winners/view/requests.py"], ["tests/test_requests.py", "tests/test_api.py"]),
    "api": (["hello_winners/view/api.py"], ["tests/test_api.py", "tests/test_requests.py"]),
    "authorization": (["hello_winners/embedded/authorization.py"], ["tests/test_authorization.py"]),
    "events": (["hello_winners/events/*"], ["tests/test_events.py", "tests/test_fold.py"]),
    "reference": (["hello_winners/game/reference.py"], ["tests/test_reference.py", "tests/test_workshop_day.py"]),
    "planner": (["hello_winners/deploy/planner.py"], ["tests/test_planner.py", "tests/test_teardown.py"]),
}
UNCAUGHT = ("survived", "no tests")  # the statuses worth reading: a bug the tests would let through
_RESULT = re.compile(r"^\s*(\S+): (\w[\w ]*)$")


def score(name, workers=2):
    """({status: count}, [(mutant, status, diff) of each survivor or untested mutant]) of one module,
    from a fresh scratch copy."""
    files, tests = MODULES[name]
    with tempfile.TemporaryDirectory(prefix=f"hello-winners-mutation-{name}-") as scratch:
        copy = Path(scratch) / "checkout"
        _copy_checkout(copy)
        settings = "\n".join([
            "", "[tool.mutmut]",
            'source_paths = ["hello_winners/"]',
            f"only_mutate = {files!r}",
            f"pytest_add_cli_args_test_selection = {tests!r}",
            # The same examples every run: a mutant is killed or not by the tests, not by luck.
            'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-m", "not embedded", "--hypothesis-seed=0"]',
            'also_copy = ["data/", "notebooks/", "benchmarks/"]',
        ]).replace("'", '"')
        (copy / "pyproject.toml").write_text((copy / "pyproject.toml").read_text() + settings + "\n")
        mutmut = [sys.executable, "-m", "mutmut"]
        subprocess.run([*mutmut, "run", "--max-children", str(workers)], cwd=copy, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listed = subprocess.run([*mutmut, "results", "--all", "true"], cwd=copy, check=True,
                                capture_output=True, text=True).stdout
        statuses = {m.group(1): m.group(2) for m in map(_RESULT.match, listed.splitlines()) if m}
        counts = {}
        for status in statuses.values():
            counts[status] = counts.get(status, 0) + 1
        survivors = [(mutant, status, subprocess.run([*mutmut, "show", mutant], cwd=copy, capture_output=True,
                                                     text=True).stdout)
                     for mutant, status in sorted(statuses.items()) if status in UNCAUGHT]
        return counts, survivors


def _copy_checkout(to):
    """The tracked files of the checkout as they are now (uncommitted changes included)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for relative in filter(None, tracked.decode().split("\0")):
        source = ROOT / relative
        if source.is_file():
            (to / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, to / relative)


def row(name, counts):
    total = sum(counts.values())
    killed = counts.get("killed", 0)
    percent = 100.0 * killed / total if total else 0.0
    rest = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s != "killed")
    return {"name": f"{name}: killed of {total} mutants" + (f" ({rest})" if rest else ""), "figure": round(percent, 1),
            "unit": "%", "compared_with": f"target >= {TARGET:g} %: {'met' if percent >= TARGET else 'NOT met'}"}


def run(quick: bool = False, only=None, workers=2) -> list[dict]:
    rows = []
    for name in only or (["fold"] if quick else MODULES):
        print(f"  mutating {name} ...", file=sys.stderr, flush=True)
        counts, survivors = score(name, workers)
        report = "".join(f"--- {status}: {mutant}\n{diff}\n" for mutant, status, diff in survivors)
        print(report, end="", file=sys.stderr)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        scored = row(name, counts)
        (ARTIFACTS / f"{name}.txt").write_text(f"{scored['name']}: {scored['figure']} %\n\n{report}")
        print(f"  {len(survivors)} not caught: {(ARTIFACTS / f'{name}.txt').relative_to(ROOT)}", file=sys.stderr)
        rows.append(scored)
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import table

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", metavar="module", help=f"of {', '.join(MODULES)}; default all")
    parser.add_argument("--workers", type=int, default=2, help="mutants tested at once (default 2)")
    args = parser.parse_args()
    if unknown := [name for name in args.only if name not in MODULES]:
        parser.error(f"no module named {', '.join(unknown)}: choose from {', '.join(MODULES)}")
    print(table([{"benchmark": "mutation", **r} for r in run(only=args.only or None, workers=args.workers)]))
