"""The notebooks as the kit keeps them: clean participant copies, solved copies, and checks of both.

The participant notebooks in ``notebooks/`` are committed clean: no outputs and no execution counts,
except the outputs of cells tagged ``nbval-check-output`` (the facts nbval compares: the winners of
the workshop day, table counts), and normalized metadata as nbstripout leaves it. Exercise cells are
tagged ``exercise`` and ``exercise:<name>``, the check cell after one ``check``.

Instructor mode builds solved copies (every exercise cell's body replaced by the source of its
solution in :mod:`hello_winners.workshop.exercises.solutions`) and runs them top to bottom with outputs::

    .venv/bin/python -m hello_winners.workshop.notebooks build [--out DIR]   # solved copies (default artifacts/solved)
    .venv/bin/python -m hello_winners.workshop.notebooks run [--out DIR] [--stage NAME]   # build, then run them
    .venv/bin/python -m hello_winners.workshop.notebooks record [--out DIR]  # run, then store the checked outputs
    .venv/bin/python -m hello_winners.workshop.notebooks check               # are the committed notebooks clean?
    .venv/bin/python -m hello_winners.workshop.notebooks normalize           # make them clean (after editing in Jupyter)

``run`` and ``record`` play the lessons in a stage of their own, ``<your stage>-run`` (lesson 7 tears its
stage down: never the instructor's own), print a summary table (lesson, code cells, seconds, and passed,
or the cell that failed), and keep the kernels' own messages in ``kernels.log`` beside the solved copies.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import inspect
import os
import sys
import time
from pathlib import Path
from typing import Callable

try:
    import nbformat

    from hello_winners import targets
    from hello_winners.errors import ConfigError
    from hello_winners.targets.state import checkout
    from hello_winners.workshop.exercises import solutions
except ModuleNotFoundError as _missing:  # run as a command by a Python the kit is not installed in
    if __name__ != "__main__":
        raise
    sys.exit(f"python -m hello_winners.workshop.notebooks: {_missing.name} is not installed for {sys.executable}: "
             "run it with the Python of the venv the kit is installed in, .venv/bin/python -m "
             "hello_winners.workshop.notebooks ... (README's quick start makes it)")

ROOT = checkout()
NOTEBOOKS = ROOT / "notebooks" if ROOT else None
SOLVED = ROOT / "artifacts" / "solved" if ROOT else None
EXERCISE = "exercise"
CHECK_OUTPUT = "nbval-check-output"
NBVAL_MARKER = "# NBVAL_CHECK_OUTPUT"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
CELL_TIMEOUT_S = 600
RUN_SUFFIX = "-run"  # the stage instructor mode plays in: the instructor's own stage plus this
KERNEL_LOG = "kernels.log"


def participant_notebooks(folder: Path | str | None = NOTEBOOKS) -> list[Path]:
    """The lessons, in running order."""
    return sorted(Path(folder).glob("[0-9][0-9]-*.ipynb"))


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def exercise_name(cell: dict) -> str | None:
    """The solution an exercise cell is tagged with (``exercise:<name>``), or None."""
    return next((tag.split(":", 1)[1] for tag in tags(cell) if tag.startswith(EXERCISE + ":")), None)


def solution_source(name: str) -> str:
    """The source of a reference solution, as pasted into a solved notebook."""
    function = getattr(solutions, name, None)
    if not inspect.isfunction(function):
        raise LookupError(f"hello_winners.workshop.exercises.solutions has no exercise {name!r}")
    return inspect.getsource(function).rstrip("\n")


def solve(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A solved copy: exercise cells hold their solution; checked cells carry nbval's marker (instead of
    the tag) and an execution count, since nbval compares only the outputs of cells that were run."""
    solved = copy.deepcopy(notebook)
    for number, cell in enumerate(solved.cells, 1):
        name = exercise_name(cell)
        if name:
            cell.source = solution_source(name)
        if CHECK_OUTPUT in tags(cell):
            cell.metadata["tags"] = [tag for tag in tags(cell) if tag != CHECK_OUTPUT]
            cell.source = f"{NBVAL_MARKER}\n{cell.source}"
            cell.execution_count = number
    return solved


def build_solved(out_dir: Path | str | None = SOLVED, folder: Path | str | None = NOTEBOOKS) -> list[Path]:
    """Write a solved copy of every lesson into ``out_dir``; the same sources give the same bytes.

    Notebooks in ``out_dir`` that are no longer lessons are removed, so nothing stale gets run.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in participant_notebooks(folder):
        target = out_dir / path.name
        target.write_text(nbformat.writes(solve(nbformat.read(path, as_version=4))), encoding="utf-8")
        written.append(target)
    for stale in set(out_dir.glob("*.ipynb")) - set(written):
        stale.unlink()
    return written


@dataclasses.dataclass
class LessonRun:
    """How one solved lesson ran: its code cells run, the seconds it took, the first cell that failed
    (None when all passed) and the cells that wrote to stderr, which a participant would see as warnings."""

    path: Path
    cells: int
    seconds: float
    failed: str | None = None
    warned: list[str] = dataclasses.field(default_factory=list)

    @property
    def result(self) -> str:
        said = f"failed at {self.failed}" if self.failed else "passed"
        return said + (f"; stderr (a warning to a participant) in {', '.join(self.warned)}" if self.warned else "")


def run_stage() -> str:
    """The stage instructor mode plays in: the instructor's own plus "-run", so lesson 7 tears down that one."""
    return targets.settings().stage + RUN_SUFFIX


def run_solved(out_dir: Path | str | None = SOLVED, folder: Path | str | None = NOTEBOOKS,
               report: Callable[[str], None] = print, stage: str | None = None) -> list[LessonRun]:
    """Build the solved copies and execute them in order, top to bottom, keeping their outputs.

    The kernels play in ``stage`` (their environment's stage when None). A lesson that fails is reported with
    its failing cell, and the next lessons run all the same: each one's first cell brings the stage to where it
    starts. The kernels' own messages (not the cells') go to ``kernels.log`` in ``out_dir``.
    """
    paths = build_solved(out_dir, folder)
    env = {**os.environ, **({"HELLO_WINNERS_STAGE": stage} if stage else {})}
    runs = []
    with open(Path(out_dir) / KERNEL_LOG, "wb") as kernel_log:
        for path in paths:
            report(f"running {path.name}")
            runs.append(_run(path, env, kernel_log))
    return runs


def _run(path, env, kernel_log):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name=KERNELSPEC["name"],
                            resources={"metadata": {"path": str(path.parent)}})
    run = LessonRun(path, 0, 0.0)
    started = time.perf_counter()
    client.reset_execution_trackers()
    with client.setup_kernel(env=env, stderr=kernel_log):
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            run.cells += 1
            try:
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            except CellExecutionError as error:
                run.failed = f"cell {index} ({cell.id}): {error.ename}: {_first_line(error.evalue)}"
                break
            except (CellTimeoutError, DeadKernelError) as error:  # the kernel is stuck or gone: the lesson ends here
                run.failed = f"cell {index} ({cell.id}): {type(error).__name__}: {_first_line(error)}"
                break
            finally:
                if any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in cell.outputs):
                    run.warned.append(f"cell {index} ({cell.id})")
    run.seconds = time.perf_counter() - started
    path.write_text(nbformat.writes(notebook), encoding="utf-8")
    return run


def _first_line(text):
    lines = str(text).strip().splitlines()
    return lines[0][:200] if lines else ""


def summary(runs: list[LessonRun]) -> str:
    """The table instructor mode ends with: lesson, code cells, seconds, and passed or the failing cell."""
    rows = [(run.path.name, str(run.cells), f"{run.seconds:.1f}", run.result) for run in runs]
    rows.append(("all", str(sum(run.cells for run in runs)), f"{sum(run.seconds for run in runs):.1f}",
                 "passed" if all(not run.failed for run in runs) else
                 f"{sum(1 for run in runs if run.failed)} of {len(runs)} lessons failed"))
    header = ("lesson", "cells", "seconds", "result")
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(3)]
    lines = [f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}" for row in [header, *rows]]
    return "\n".join(lines[:1] + ["-" * len(lines[0])] + lines[1:-1] + ["-" * len(lines[0])] + lines[-1:])


def record(out_dir: Path | str | None = SOLVED, folder: Path | str | None = NOTEBOOKS,
           report: Callable[[str], None] = print, stage: str | None = None) -> bool:
    """Run the solved copies, then store the outputs of the checked cells in the participant notebooks.

    Nothing is stored unless every lesson passed without writing to stderr; returns whether it was.
    """
    runs = run_solved(out_dir, folder, report, stage)
    report(summary(runs))
    if any(run.failed or run.warned for run in runs):
        report("recorded nothing: every lesson must pass without a warning first")
        return False
    executed = {run.path.name: nbformat.read(run.path, as_version=4) for run in runs}
    for path in participant_notebooks(folder):
        outputs = {cell.id: cell.get("outputs", []) for cell in executed[path.name].cells}
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if CHECK_OUTPUT in tags(cell):
                cell.outputs = outputs[cell.id]
        _write(path, normalize(notebook))
    report("recorded the checked outputs")
    return True


def normalize(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as it is committed: kernelspec and language only, no counts, outputs only where checked."""
    clean = copy.deepcopy(notebook)
    clean.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
    for cell in clean.cells:
        cell.metadata = nbformat.from_dict({"tags": tags(cell)} if tags(cell) else {})
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        cell.execution_count = None
        cell.outputs = [_clean_output(o) for o in cell.outputs] if CHECK_OUTPUT in tags(cell) else []
    return clean


def _clean_output(output):
    output = copy.deepcopy(output)
    if "execution_count" in output:
        output["execution_count"] = None
    return output


def _write(path, notebook):
    Path(path).write_text(nbformat.writes(notebook), encoding="utf-8")


def problems(folder: Path | str | None = NOTEBOOKS) -> list[str]:
    """What is wrong with the committed notebooks (empty when all is well)."""
    found = []
    for path in participant_notebooks(folder):
        text = path.read_text(encoding="utf-8")
        notebook = nbformat.reads(text, as_version=4)
        if nbformat.writes(normalize(notebook)) != text:
            found.append(f"{path.name}: not normalized (run python -m hello_winners.workshop.notebooks normalize)")
        for cell in notebook.cells:
            name = exercise_name(cell)
            if name and not _same_signature(cell.source, name):
                found.append(f"{path.name}: exercise {name} does not start like its solution (signature and docstring)")
            if CHECK_OUTPUT in tags(cell) and not cell.get("outputs"):
                found.append(f"{path.name}: checked cell {cell.id} has no stored output (run ... notebooks record)")
    return found


def _same_signature(source, name):
    """The exercise cell keeps the solution's def line and docstring, word for word."""
    solution = solution_source(name).splitlines()
    head = solution[:_docstring_end(solution)]
    return source.splitlines()[:len(head)] == head


def _docstring_end(lines):
    """Lines of a function's source up to and including the end of its docstring."""
    quotes = 0
    for number, line in enumerate(lines, 1):
        quotes += line.count('"""')
        if quotes >= 2:
            return number
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hello_winners.workshop.notebooks", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("build", "run", "record", "check", "normalize"))
    parser.add_argument("--out", default=SOLVED and str(SOLVED), help="folder of the solved copies (default artifacts/solved)")
    parser.add_argument("--stage", help=f"the stage run and record play in (default: your stage + {RUN_SUFFIX!r}; "
                                        "lesson 7 tears it down)")
    args = parser.parse_args(argv)
    if ROOT is None:
        raise SystemExit("python -m hello_winners.workshop.notebooks: the lessons are in the kit's source checkout, "
                         "not in an installed package: clone the repository and pip install -e . from it")
    if args.command == "build":
        for path in build_solved(args.out):
            print(path)
    elif args.command in ("run", "record"):
        try:
            stage = targets.settings(stage=args.stage or run_stage()).stage
        except ConfigError as error:
            raise SystemExit(f"python -m hello_winners.workshop.notebooks {args.command}: {error}") from None
        print(f"playing the lessons in stage {stage} (lesson 7 tears it down; your own stage is left as it is)")
        if args.command == "record":
            return 0 if record(args.out, stage=stage) else 1
        runs = run_solved(args.out, stage=stage)
        print(summary(runs))
        print(f"the executed copies are in {args.out}; the kernels' own messages in {Path(args.out) / KERNEL_LOG}")
        return 1 if any(run.failed for run in runs) else 0
    elif args.command == "normalize":
        for path in participant_notebooks():
            _write(path, normalize(nbformat.read(path, as_version=4)))
    else:
        found = problems()
        print("\n".join(found) or "the notebooks are clean")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
