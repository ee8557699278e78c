"""The lessons in the participant's real client: JupyterLab, started as README says, in headless Chromium.

nbval runs the lessons' kernels; it never sees JupyterLab itself: its file browser, its menus, how it
renders what a cell outputs. Here Playwright drives Debian's Chromium (``executable_path``: no browser
download) through lesson 0 and lesson 4 as a participant would: the checkout's root in the file browser
(docs/ beside notebooks/), each lesson opened from it, Run All Cells from the menu, then what the page
shows: no error and no warning in any cell, the leaderboard chart as an image, a check's pass message.

JupyterLab serves a copy of the checkout's layout (notebooks/, docs/, README.md) so that running cells in
it can never write outputs into the committed notebooks; lesson 4 is its solved copy, as instructor
mode builds it. The kernels play in a stage of their own on the suite's embedded AWS, torn down after.
A screenshot of lesson 4 goes to artifacts/ (git-ignored) for a human look.
"""

import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest

from hello_winners import targets
from hello_winners.workshop import notebooks, play

ARTIFACTS = notebooks.ROOT / "artifacts"
STAGE = "lab"
LESSON_0, LESSON_4 = "00-setup.ipynb", "04-who-is-winning.ipynb"

pytestmark = pytest.mark.embedded


def readme_command():
    """README's command that opens the lessons, as words (its .venv/bin/jupyter made this venv's)."""
    readme = (notebooks.ROOT / "README.md").read_text(encoding="utf-8")
    (line,) = [line for line in re.findall(r"```bash\n(.*?)```", readme, re.DOTALL)
               for line in line.splitlines() if "jupyter lab" in line]
    words = shlex.split(line)
    assert words[0] == ".venv/bin/jupyter", line
    return [str(Path(sys.executable).with_name("jupyter")), *words[1:]]


def test_readme_opens_jupyterlab_with_the_checkout_as_its_root():
    words = readme_command()
    assert "--ServerApp.root_dir=." in words and words[-1] == "notebooks/" + LESSON_0


@pytest.fixture(scope="module")
def checkout_copy(tmp_path_factory):
    """The checkout as the file browser shows it: README.md, docs/, and notebooks/ with lesson 0 as committed
    and lesson 4 solved (a participant's would hold their own answers)."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copy(notebooks.ROOT / "README.md", root)
    shutil.copytree(notebooks.ROOT / "docs", root / "docs")
    (root / "notebooks").mkdir()
    shutil.copy(notebooks.NOTEBOOKS / LESSON_0, root / "notebooks")
    solved = notebooks.solve(nbformat.read(notebooks.NOTEBOOKS / LESSON_4, as_version=4))
    nbformat.write(solved, root / "notebooks" / LESSON_4)
    return root


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(embedded_server, checkout_copy, tmp_path_factory):
    """README's command, run from the checkout's copy, headless, on a free port with a token of its own.

    Jupyter's own folders (settings, workspaces, runtime) are the test's, so nothing of a developer's
    JupyterLab is read or written. Yields its URL and token; the server and every kernel it started end after.
    """
    home = tmp_path_factory.mktemp("jupyter")
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "HELLO_WINNERS_STAGE": STAGE, "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    command = readme_command() + ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                                  "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
    if os.geteuid() == 0:  # CI runs as root, which Jupyter refuses unless told
        command.append("--allow-root")
    with open(home / "jupyterlab.log", "wb") as log:
        server = subprocess.Popen(command, cwd=checkout_copy, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{url}/api/status?token={token}", server, home / "jupyterlab.log")
        yield url, token
    finally:
        kernels = psutil.Process(server.pid).children(recursive=True) if server.poll() is None else []
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        for kernel in kernels:
            if kernel.is_running():
                kernel.kill()
        play.teardown(targets.settings(stage=STAGE), report=lambda line: None)


def _wait_until_up(status_url, server, log, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(status_url, timeout=5):
                return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start (exit code {server.poll()}):\n{log.read_text()[-2000:]}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def page(jupyterlab, chromium):
    context = chromium.new_context(viewport={"width": 1600, "height": 1000})
    try:
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        tab.goto(f"{jupyterlab[0]}/lab?token={jupyterlab[1]}")
        tab.locator(".jp-DirListing-content").wait_for()
        yield tab
    finally:
        context.close()


def listing(page):
    """The names the file browser lists, in its order."""
    items = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
    items.first.wait_for()
    return items.all_inner_texts()


def open_from_the_file_browser(page, *path):
    for name in path:
        page.locator(".jp-DirListing-content .jp-DirListing-item", has_text=name).first.dblclick()
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    notebook.locator(".jp-Notebook").wait_for()
    return notebook


def kernel_started(page, jupyterlab, path, timeout_s=60):
    """Wait until the notebook's kernel is up and idle (the server's sessions say), choosing the preferred
    kernel as a participant would when JupyterLab asks (it does when it opens a notebook before it has read
    the kernel specs)."""
    url, token = jupyterlab
    deadline = time.monotonic() + timeout_s
    while True:
        dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
        if dialog.is_visible():
            dialog.locator(".jp-mod-accept").click()
        with urllib.request.urlopen(f"{url}/api/sessions?token={token}", timeout=10) as answer:
            sessions = json.load(answer)
        if any(s["path"] == path and (s.get("kernel") or {}).get("execution_state") == "idle" for s in sessions):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the kernel of {path} did not start in {timeout_s} s: the server's sessions are {sessions}")
        time.sleep(0.2)


def run_all_cells(page, notebook, timeout_s=300):
    """Run > Run All Cells, then wait until every code cell has its execution count.

    Cells scrolled out of view are not rendered (CSS content-visibility), so their text is read from the DOM.
    """
    notebook.locator(".jp-Notebook").click()  # the menu acts on the notebook in focus
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    prompts = notebook.locator(".jp-CodeCell .jp-InputArea-prompt")
    deadline = time.monotonic() + timeout_s
    while not all(re.fullmatch(r"\[\d+\]:", text.strip()) for text in prompts.all_text_contents()):
        if time.monotonic() > deadline:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / "jupyterlab-not-run.png")
            pytest.fail(f"the cells did not all run in {timeout_s} s: {prompts.all_text_contents()} "
                        "(artifacts/jupyterlab-not-run.png shows the page)")
        time.sleep(0.5)
    return prompts.count()


def shown_problems(notebook):
    """What the cells show as errors or warnings: JupyterLab renders both as stderr output."""
    return notebook.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_text_contents()


def test_lesson_0_and_lesson_4_run_in_jupyterlab_with_no_error_or_warning_their_chart_drawn_and_checks_passed(
        page, jupyterlab):
    assert {"docs", "notebooks", "README.md"} <= set(listing(page)), "JupyterLab's root is not the checkout"

    lesson_0 = open_from_the_file_browser(page, "notebooks", LESSON_0)
    kernel_started(page, jupyterlab, "notebooks/" + LESSON_0)
    assert run_all_cells(page, lesson_0) == 6
    assert shown_problems(lesson_0) == []
    assert "lesson 0 (set-up and orientation) on embedded, stage lab: ready" in lesson_0.text_content()

    page.locator(".jp-DirListing-content .jp-DirListing-item", has_text=LESSON_4).first.dblclick()
    lesson_4 = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)", has_text="Lesson 4: who is winning")
    lesson_4.locator(".jp-Notebook").wait_for()
    kernel_started(page, jupyterlab, "notebooks/" + LESSON_4)
    run_all_cells(page, lesson_4)
    assert shown_problems(lesson_4) == []
    text = lesson_4.text_content()
    for name in ("top_of_role", "scores_frame", "leaderboard_chart"):
        assert f"{name}: passed (" in text, f"the check of {name} shows no pass message"

    charts = lesson_4.locator('.jp-OutputArea-output[data-mime-type="image/png"] img')
    assert charts.count() == 4  # the participant's leaderboard chart, the kit's two, the sales race
    first = charts.first
    first.scroll_into_view_if_needed()
    assert first.evaluate("img => img.complete && img.naturalWidth > 300 && img.naturalHeight > 150")
    ARTIFACTS.mkdir(exist_ok=True)
    first.screenshot(path=ARTIFACTS / "jupyterlab-lesson-4-chart.png")
