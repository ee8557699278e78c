"""The participant's check the day before: can this laptop run the workshop?

One command, ``.venv/bin/hello-winners preflight`` (or ``python -m hello_winners.workshop.preflight`` with
any Python, from the checkout), checks what a room trips over: the Python version, the kit's install and
its dependencies' versions, the Jupyter kernel the lessons will run in, the target (the embedded AWS,
started and called as the participant, with its local Lambda runtime; or real AWS), and a web browser
for JupyterLab. It prints one line a check, and what is wrong in one sentence each; its exit status is 1
when anything is.

Only the standard library is imported here at first: a check that cannot import the kit must still
run, and say so.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import sys
import webbrowser
from collections.abc import Callable, Iterable

SUPPORTED = ((3, 10), (3, 13))  # README's "Supported": the oldest and the newest minor version
DISTRIBUTION = "hello-winners"
KERNEL = "python3"
INSTALL = "python3 -m venv .venv && .venv/bin/pip install -e . (README's quick start)"


def python_version(version: tuple[int, ...] = tuple(sys.version_info[:3]), executable: str = sys.executable) -> str | None:
    """What is wrong with the Python version, or None."""
    shown = ".".join(map(str, version))
    if not SUPPORTED[0] <= tuple(version[:2]) <= SUPPORTED[1]:
        return (f"{executable} is Python {shown}, and the kit needs Python 3.10 to 3.13: make the venv with one of "
                "those (e.g. python3.12 -m venv .venv), then install the kit in it again")
    return None


def system(name: str = os.name) -> str | None:
    """What is wrong with the operating system, or None: the embedded AWS needs POSIX sessions and signals."""
    if name != "posix":
        return "Windows lacks the POSIX sessions and signals the embedded AWS needs: run the kit inside WSL"
    return None


def install(requirements: Iterable[str] | None = None) -> str | None:
    """What is wrong with the kit's install: the kit missing, or a dependency missing or out of its range."""
    not_here = f"the kit is not installed for {sys.executable}"
    try:
        if requirements is None:
            requirements = [r for r in importlib.metadata.requires(DISTRIBUTION) or [] if "extra ==" not in r]
        from packaging.requirements import (
            Requirement,  # what pip and JupyterLab bring along
        )
    except (importlib.metadata.PackageNotFoundError, ModuleNotFoundError):
        return f"{not_here}: {INSTALL}, then run this with .venv/bin/hello-winners"
    wrong = []
    for text in requirements:
        requirement = Requirement(text)
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{requirement.name} missing")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            wrong.append(f"{requirement.name} {installed} where it needs {requirement.specifier}")
    if wrong:
        shown = ", ".join(wrong[:3]) + (f" and {len(wrong) - 3} more" if len(wrong) > 3 else "")
        return f"the kit's dependencies are not as it needs for {sys.executable} ({shown}): {INSTALL}"
    return None


def kernel(argv: list[str] | None = None, executable: str = sys.executable) -> str | None:
    """What is wrong with the Jupyter kernel the lessons ask for (python3): it must run this Python, where
    the kit is installed, or every lesson fails with ModuleNotFoundError."""
    if argv is None:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        try:
            spec = KernelSpecManager().get_kernel_spec(KERNEL)
        except NoSuchKernel:
            return f"Jupyter has no {KERNEL} kernel: install the kit again in its venv, .venv/bin/pip install -e ."
        argv = spec.argv
    runs = argv[0] if argv else ""
    here = {"python", f"python{sys.version_info[0]}", f"python{sys.version_info[0]}.{sys.version_info[1]}"}
    if runs in here or os.path.realpath(runs) == os.path.realpath(executable):
        return None
    return (f"Jupyter's {KERNEL} kernel runs {runs}, not this venv's Python, so the lessons could not import the kit: "
            f"remove that kernel (jupyter kernelspec remove {KERNEL}) or start JupyterLab from this venv")


def target(name: str | None = None, stage: str | None = None) -> str | None:
    """What is wrong with the target (``name``, else the chosen one): on the embedded AWS, its server and local
    Lambda runtime started and a signed call made as the participant; on real AWS, the credentials and region,
    with a call."""
    from hello_winners import targets
    from hello_winners.errors import HelloWinnersError
    from hello_winners.workshop import lessons

    where = "real AWS" if targets.chosen(name) == targets.AWS else "the embedded AWS"
    try:
        with targets.friendly_errors():
            here = lessons.reach(name, stage)
            here.clients["kinesis"].list_streams(Limit=1)
            if here.settings.target == targets.EMBEDDED:
                from hello_winners.embedded import runtime

                runtime.ensure_running()
    except HelloWinnersError as error:
        return str(error)
    except Exception as error:  # noqa: BLE001 - whatever stops the target is what the participant needs to hear
        first = str(error).splitlines()[0] if str(error) else ""
        return f"a call to {where} failed with {type(error).__name__}: {first}"
    return None


def browser(find: Callable[[], object] = webbrowser.get) -> str | None:
    """What is wrong with the web browser JupyterLab opens (it asks Python's webbrowser module, as this does)."""
    try:
        find()
    except webbrowser.Error:
        return ("no web browser was found to open JupyterLab in: install one (Firefox, Chrome or Chromium), or open "
                "the address JupyterLab prints by hand")
    return None


#: The checks in the order they are run: a name, what it checks, and the check.
CHECKS: tuple[tuple[str, Callable[[], str | None]], ...] = (
    ("Python", python_version),
    ("system", system),
    ("install", install),
    ("kernel", kernel),
    ("target", target),
    ("browser", browser),
)
#: Checks that cannot run while an earlier one failed, by the one they need.
NEEDS = {"kernel": "install", "target": "install"}


def run(checks: Iterable[tuple[str, Callable[[], str | None]]] = CHECKS, report: Callable[[str], None] = print) -> int:
    """Run the checks, print a line for each; the number of problems found."""
    failed: set[str] = set()
    for name, check in checks:
        if NEEDS.get(name) in failed:
            report(f"skip  {name}: needs the {NEEDS[name]} fixed first")
            continue
        problem = check()
        if problem:
            failed.add(name)
            report(f"FAIL  {name}: {problem}")
        else:
            report(f"ok    {name}")
    report(f"{len(failed)} problem{'s' if len(failed) != 1 else ''}: fix {'them' if len(failed) != 1 else 'it'} "
           "before the workshop (docs/instructors.md has a troubleshooting table)" if failed
           else "ready for the workshop")
    return len(failed)


def main(target_name: str | None = None, stage: str | None = None) -> int:
    """Every check, the target's on ``target_name`` and ``stage`` when given; the exit status."""
    checks = [(name, functools.partial(target, target_name, stage) if check is target else check) for name, check in CHECKS]
    return 1 if run(checks) else 0


if __name__ == "__main__":
    sys.exit(main())
