"""The machinery every checker shares: cases run one at a time, the first wrong one reported with a hint.

A checker never raises at the participant: :func:`check` prints the verdict, whatever the function did.

Every hint has a key: a few lowercase words joined by hyphens, written beside the hint where the
checker gives it (``key="score-only-the-roles-the-item-has"``), stable across runs and wordings of
the hint's details. :func:`hint_keys` enumerates them from the checkers' source. A participant who
shares their progress with a room reports the exercise, the outcome and this key, never the hint's
text or their code (:mod:`hello_winners.workshop.inroom`).
"""

import ast
import contextlib
import functools
import traceback
from pathlib import Path

from botocore.exceptions import ParamValidationError

from hello_winners.workshop.exercises import figures
from hello_winners.errors import NotDoneYet


class Wrong(Exception):
    """A case the participant's function got wrong: what happened, and a hint."""

    def __init__(self, what, hint, key):
        super().__init__(what)
        self.what, self.hint, self.key = what, hint, key


class Checker:
    """Runs cases; remembers which one is running, so a crash can be reported on it."""

    def __init__(self):
        self.case = "the first case"
        self.passed = 0

    @contextlib.contextmanager
    def on(self, case, crash_hint=None, key=None):
        self.case = case
        try:
            yield
        except (Wrong, NotDoneYet):
            raise
        except Exception as error:  # noqa: BLE001 - the participant's code may raise anything
            raise Wrong(f"it raised {type(error).__name__}: {short(error)}",
                        crash_hint or "read the error, fix the line it points at, then run the check again",
                        key=key or CRASHED) from None
        self.passed += 1

    def expect(self, ok, what, hint, key):
        if not ok:
            raise Wrong(what, hint, key)


CRASHED = "it-raised-read-the-error"  # the key of a crash in a case without a hint of its own
CHECKER_FAILED = "the-checker-itself-failed"


def short(error):
    """The error's first line; a boto3 parameter error whole, since its first line only says that one failed."""
    text = str(error).strip().splitlines()
    if isinstance(error, ParamValidationError):
        return " ".join(line.strip() for line in text)
    return text[0][:200] if text else repr(error)


def check(name, body, *args):
    """Print the verdict of ``body(checker, *args)``; never raise. In a room, with the participant's consent,
    the outcome and the hint's key go to the room too (queued: the verdict never waits for the room)."""
    checker = Checker()
    try:
        summary = body(checker, *args)
    except NotDoneYet as error:
        print(f"{name}: not done yet ({error})")
        _share(name, "not-done", None)
    except Wrong as wrong:
        print(f"{name}: not right yet, on {checker.case}: {wrong.what}\n  hint: {wrong.hint}")
        _share(name, "failed", wrong.key)
    except Exception:  # noqa: BLE001 - a checker must never raise at the participant
        print(f"{name}: the checker itself failed, please tell the instructor:\n{traceback.format_exc(limit=3)}")
        _share(name, "failed", CHECKER_FAILED)
    else:
        cases = f"{checker.passed} case" + ("s" if checker.passed != 1 else "")
        print(f"{name}: passed ({cases}{', ' + summary if summary else ''})")
        _share(name, "passed", None)


def _share(name, outcome, key):
    from hello_winners.workshop import inroom

    with contextlib.suppress(Exception):  # sharing must never spoil a check's verdict
        inroom.share(name, outcome, key)


@functools.cache
def hint_keys():
    """Every hint key the checkers can report, with the hint's source text: {key: hint}. Read from the
    checkers' source, where each hint and its key are written side by side."""
    found = {CRASHED: "read the error, fix the line it points at, then run the check again",
             CHECKER_FAILED: "the checker itself failed: tell the instructor"}
    for path in sorted(Path(__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                key = next((k.value for k in node.keywords if k.arg == "key"), None)
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    hint = node.args[2] if _called(node, "expect") else node.args[1] if len(node.args) > 1 else next(
                        (k.value for k in node.keywords if k.arg == "crash_hint"), None)
                    found.setdefault(key.value, ast.unparse(hint) if hint is not None else "")
    return found


def _called(node, attribute):
    return isinstance(node.func, ast.Attribute) and node.func.attr == attribute


def chart_axes(fig):
    """The one Axes of a participant's chart, or what is wrong with what they returned."""
    try:
        return figures.axes_of(fig)
    except ValueError as error:
        raise Wrong(str(error), "return the Figure you drew on (fig), one chart on one Axes",
                    key="return-the-figure-you-drew-on") from None


def titled(c, ax, axes_say):
    text = figures.titles(ax)
    c.expect(text["title"], "the chart has no title", "ax.set_title(...): say what the room is looking at",
             key="set-a-title")
    c.expect(text["x"] and text["y"], f"an axis has no title (x: {text['x']!r}, y: {text['y']!r})",
             f"ax.set_xlabel(...) and ax.set_ylabel(...): {axes_say}", key="set-both-axis-titles")
