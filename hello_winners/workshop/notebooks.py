"""The notebooks as the kit keeps them: clean participant copies, solved copies, and checks of both.

The participant notebooks in ``notebooks/`` are committed clean: no outputs and no execution counts,
except the outputs of cells tagged ``nbval-check-output`` (the facts nbval compares: the winners of
the workshop day, table counts), and normalized metadata as nbstripout leaves it. Exercise cells are
tagged ``exercise`` and ``exercise:<name>``, the check cell after one ``check``.

Instructor mode builds solved copies (every exercise cell's body replaced by the source of its
solution in :mod:`hello_winners.workshop.exercises.solutions`) and runs them top to bottom with outputs::

    python -m hello_winners.workshop.notebooks build [--out DIR]    # solved copies (default artifacts/solved)
    python -m hello_winners.workshop.notebooks run [--out DIR]      # build, then execute them in order
    python -m hello_winners.workshop.notebooks record [--out DIR]   # run, then store the checked cells' outputs
    python -m hello_winners.workshop.notebooks check                # are the committed notebooks clean?
    python -m hello_winners.workshop.notebooks normalize            # make them clean (after editing in Jupyter)
"""

from __future__ import annotations

import argparse
import copy
import inspect
import sys
from pathlib import Path
from typing import Callable

import nbformat

from hello_winners.targets.state import checkout
from hello_winners.workshop.exercises import solutions

ROOT = checkout()
NOTEBOOKS = ROOT / "notebooks" if ROOT else None
SOLVED = ROOT / "artifacts" / "solved" if ROOT else None
EXERCISE = "exercise"
CHECK_OUTPUT = "nbval-check-output"
NBVAL_MARKER = "# NBVAL_CHECK_OUTPUT"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
CELL_TIMEOUT_S = 600


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


def run_solved(out_dir: Path | str | None = SOLVED, folder: Path | str | None = NOTEBOOKS,
               report: Callable[[str], None] = print) -> list[Path]:
    """Build the solved copies and execute them in order, top to bottom, keeping their outputs."""
    from nbclient import NotebookClient

    paths = build_solved(out_dir, folder)
    for path in paths:
        report(f"running {path.name}")
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name=KERNELSPEC["name"],
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        path.write_text(nbformat.writes(notebook), encoding="utf-8")
    return paths


def record(out_dir: Path | str | None = SOLVED, folder: Path | str | None = NOTEBOOKS,
           report: Callable[[str], None] = print) -> None:
    """Run the solved copies, then store the outputs of the checked cells in the participant notebooks."""
    executed = {path.name: nbformat.read(path, as_version=4) for path in run_solved(out_dir, folder, report)}
    for path in participant_notebooks(folder):
        outputs = {cell.id: cell.get("outputs", []) for cell in executed[path.name].cells}
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if CHECK_OUTPUT in tags(cell):
                cell.outputs = outputs[cell.id]
        _write(path, normalize(notebook))
    report("recorded the checked outputs")


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
    args = parser.parse_args(argv)
    if ROOT is None:
        raise SystemExit("python -m hello_winners.workshop.notebooks: the lessons are in the kit's source checkout, "
                         "not in an installed package: clone the repository and pip install -e . from it")
    if args.command == "build":
        for path in build_solved(args.out):
            print(path)
    elif args.command == "run":
        run_solved(args.out)
    elif args.command == "record":
        record(args.out)
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
