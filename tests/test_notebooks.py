"""The lessons as committed: clean, with exercises wired to solutions and checks; solved copies built
the same way every time; participant notebooks that run until their first exercise and fail only with
the kit's "not done yet"."""

import re

import nbformat
import pytest

from hello_winners.workshop import lessons, notebooks
from hello_winners.workshop.exercises import EXERCISES, solutions

PATHS = notebooks.participant_notebooks()


def read(path):
    return nbformat.read(path, as_version=4)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_one_notebook_per_lesson_in_running_order():
    assert [int(p.name[:2]) for p in PATHS] == sorted(lessons.LESSONS)
    assert all(re.fullmatch(r"\d\d-[a-z-]+\.ipynb", p.name) for p in PATHS)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_the_first_code_cell_brings_the_stage_to_the_lesson(path):
    first = code_cells(read(path))[0].source
    assert first == f"from hello_winners.workshop import lessons\n\nstage = lessons.setup({int(path.name[:2])})"


def test_committed_notebooks_are_normalized_with_outputs_only_where_nbval_checks():
    assert notebooks.problems() == []
    for path in PATHS:
        text = path.read_text(encoding="utf-8")
        notebook = nbformat.reads(text, as_version=4)
        assert notebook.metadata == {"kernelspec": notebooks.KERNELSPEC, "language_info": {"name": "python"}}
        for cell in code_cells(notebook):
            assert cell.execution_count is None
            assert bool(cell.outputs) == (notebooks.CHECK_OUTPUT in notebooks.tags(cell)), (path.name, cell.id)
            assert set(cell.metadata) <= {"tags"}
        for leak in ("/home/", "/work/", "/Users/", "/tmp/", "site-packages", "widgets"):
            assert leak not in text, (path.name, leak)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_each_exercise_has_its_load_line_its_stub_and_its_check(path):
    notebook = read(path)
    found = []
    for number, cell in enumerate(notebook.cells):
        name = notebooks.exercise_name(cell)
        if not name:
            continue
        found.append(name)
        assert "exercise" in notebooks.tags(cell)
        assert f"%load -n hello_winners.workshop.exercises.solutions.{name}" in notebook.cells[number - 1].source
        assert cell.source.startswith(f"def {name}(") and re.search(r'\n    raise NotDoneYet\(".+"\)$', cell.source)
        check = notebook.cells[number + 1]
        assert check.source == f"checks.{name}({name})" and notebooks.tags(check) == ["check"]
    assert tuple(found) == EXERCISES.get(int(path.name[:2]), ())


def test_build_solved_is_deterministic_and_fills_every_exercise(tmp_path):
    first = notebooks.build_solved(tmp_path / "a")
    second = notebooks.build_solved(tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in PATHS]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    checked = []
    for path in first:
        for cell in read(path).cells:
            if notebooks.exercise_name(cell):
                assert cell.source == notebooks.solution_source(notebooks.exercise_name(cell))
                assert "NotDoneYet" not in cell.source
            if cell.source.startswith(notebooks.NBVAL_MARKER + "\n"):
                checked.append(cell.id)
                assert cell.outputs and cell.execution_count, "nbval compares only cells that were run"
    tagged = [cell.id for path in PATHS for cell in read(path).cells if notebooks.CHECK_OUTPUT in notebooks.tags(cell)]
    assert checked == tagged


def test_solutions_are_the_exercises_and_nothing_else():
    defined = {name for name, value in vars(solutions).items()
               if callable(value) and getattr(value, "__module__", "") == solutions.__name__}
    assert defined == {name for names in EXERCISES.values() for name in names}


def test_normalize_strips_what_a_run_leaves_behind():
    notebook = read(PATHS[0])
    cell = code_cells(notebook)[1]
    cell.execution_count = 7
    cell.outputs = [nbformat.v4.new_output("stream", text="hi\n")]
    cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    notebook.metadata["widgets"] = {"state": {}}
    notebook.metadata["kernelspec"]["path"] = "/somewhere/kernels/python3"
    assert nbformat.writes(notebooks.normalize(notebook)) == PATHS[0].read_text(encoding="utf-8")


# --- participant notebooks, executed --------------------------------------------------------------

def _errors(cell):
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


@pytest.fixture(scope="module")
def participant_stage(embedded_server):
    """A stage of its own, so the participant runs do not touch what the solved notebooks build."""
    stage = "participant"
    yield stage
    from hello_winners import targets
    from hello_winners.workshop import play

    play.teardown(targets.settings(stage=stage), report=lambda line: None)


@pytest.mark.embedded
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_a_participant_notebook_runs_until_its_first_exercise_and_then_fails_only_with_not_done_yet(
        path, participant_stage, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("HELLO_WINNERS_STAGE", participant_stage)
    notebook = read(path)
    NotebookClient(notebook, timeout=notebooks.CELL_TIMEOUT_S, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    first = next((n for n, cell in enumerate(notebook.cells) if notebooks.exercise_name(cell)), len(notebook.cells))
    for number, cell in enumerate(notebook.cells):
        for error in _errors(cell):
            assert number > first, f"cell {cell.id} failed before the first exercise: {error['ename']}: {error['evalue']}"
            assert error["ename"] == "NotDoneYet", f"cell {cell.id} failed with {error['ename']}: {error['evalue']}"
        written = [o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr"]
        assert not written, f"cell {cell.id} wrote to stderr, which a participant takes for a warning: {written}"
        if notebooks.exercise_name(cell):
            assert not _errors(cell), "running an exercise cell only defines its function"
        if "check" in notebooks.tags(cell):
            printed = "".join(o.get("text", "") for o in cell.outputs)
            assert printed.startswith(f"{cell.source[len('checks.'):].split('(')[0]}: not done yet ("), printed


def test_every_load_line_brings_its_solution_into_the_cell_in_a_real_kernel():
    """The stuck participant's one line: IPython's %load answers with the solution's source as the next input."""
    import inspect

    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        client.execute_interactive("import hello_winners.workshop.exercises.solutions", timeout=60)
        for name in (name for lesson in EXERCISES.values() for name in lesson):
            client.execute(f"%load -n hello_winners.workshop.exercises.solutions.{name}")
            reply = client.get_shell_msg(timeout=60)["content"]
            assert reply["status"] == "ok", name
            (payload,) = [p for p in reply["payload"] if p["source"] == "set_next_input"]
            assert inspect.getsource(getattr(solutions, name)).strip() in payload["text"], name
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_lesson_0_draws_the_readmes_architecture_diagram():
    readme = (notebooks.ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```\n merchants")
    diagram = readme[start:readme.index("```", start + 3) + 3]
    assert any(diagram in cell.source for cell in read(PATHS[0]).cells)


# --- instructor mode --------------------------------------------------------------------------------

def _lesson(folder, name, *sources):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    notebook.metadata = {"kernelspec": notebooks.KERNELSPEC}
    nbformat.write(notebook, folder / name)


def test_instructor_mode_runs_every_lesson_in_its_stage_and_ends_with_a_table_naming_the_failing_cell(tmp_path):
    lessons_folder = tmp_path / "lessons"
    lessons_folder.mkdir()
    _lesson(lessons_folder, "00-fails.ipynb", "print('hello')", "import sys\nprint('careful', file=sys.stderr)",
            "raise ValueError('boom')", "print('never run')")
    _lesson(lessons_folder, "01-goes-on.ipynb", "import os\nprint(os.environ['HELLO_WINNERS_STAGE'])")
    said = []
    runs = notebooks.run_solved(tmp_path / "solved", lessons_folder, report=said.append, stage="alice-run")
    assert said == ["running 00-fails.ipynb", "running 01-goes-on.ipynb"]
    failed, passed = runs
    assert (failed.cells, passed.cells) == (3, 1)
    assert failed.failed.startswith("cell 2 (") and failed.failed.endswith("ValueError: boom")
    assert failed.warned == [f"cell 1 ({read(failed.path).cells[1].id})"]
    assert passed.failed is None and passed.result == "passed"
    assert read(passed.path).cells[0].outputs[0]["text"] == "alice-run\n"  # the kernels play in the stage given
    assert (tmp_path / "solved" / notebooks.KERNEL_LOG).is_file()
    table = notebooks.summary(runs).splitlines()
    assert table[0].split() == ["lesson", "cells", "seconds", "result"]
    assert table[2].startswith("00-fails.ipynb") and "failed at cell 2 (" in table[2] and "stderr" in table[2]
    assert table[3].startswith("01-goes-on.ipynb") and table[3].endswith("passed")
    assert table[-1].startswith("all") and table[-1].endswith("1 of 2 lessons failed")


def test_instructor_mode_names_a_cell_that_outlasts_its_timeout_and_goes_on_to_the_next_lesson(tmp_path, monkeypatch):
    monkeypatch.setattr(notebooks, "CELL_TIMEOUT_S", 1)
    lessons_folder = tmp_path / "lessons"
    lessons_folder.mkdir()
    _lesson(lessons_folder, "00-stuck.ipynb", "import time\ntime.sleep(30)", "print('never run')")
    _lesson(lessons_folder, "01-next.ipynb", "print('still runs')")
    stuck, after = notebooks.run_solved(tmp_path / "solved", lessons_folder, report=lambda line: None)
    assert stuck.failed.startswith("cell 0 (") and "CellTimeoutError" in stuck.failed and stuck.cells == 1
    assert after.result == "passed"


def test_instructor_mode_plays_in_a_stage_of_its_own_never_the_instructors(monkeypatch):
    monkeypatch.setenv("HELLO_WINNERS_STAGE", "alice")
    assert notebooks.run_stage() == "alice-run"


def test_instructor_mode_run_by_a_python_without_the_kit_says_which_python_to_use():
    import subprocess
    import sys

    ran = subprocess.run([sys.executable, "-S", "-m", "hello_winners.workshop.notebooks", "check"], cwd=notebooks.ROOT,
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 1 and "Traceback" not in ran.stderr, ran.stderr
    assert "is not installed for" in ran.stderr and ".venv/bin/python -m hello_winners.workshop.notebooks" in ran.stderr
