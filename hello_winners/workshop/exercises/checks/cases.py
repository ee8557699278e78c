"""The machinery every checker shares: cases run one at a time, the first wrong one reported with a hint.

A checker never raises at the participant: :func:`check` prints the verdict, whatever the function did.
"""

import contextlib
import traceback

from botocore.exceptions import ParamValidationError

from hello_winners.workshop.exercises import figures
from hello_winners.errors import NotDoneYet


class Wrong(Exception):
    """A case the participant's function got wrong: what happened, and a hint."""

    def __init__(self, what, hint):
        super().__init__(what)
        self.what, self.hint = what, hint


class Checker:
    """Runs cases; remembers which one is running, so a crash can be reported on it."""

    def __init__(self):
        self.case = "the first case"
        self.passed = 0

    @contextlib.contextmanager
    def on(self, case, crash_hint=None):
        self.case = case
        try:
            yield
        except (Wrong, NotDoneYet):
            raise
        except Exception as error:  # noqa: BLE001 - the participant's code may raise anything
            raise Wrong(f"it raised {type(error).__name__}: {short(error)}",
                        crash_hint or "read the error, fix the line it points at, then run the check again") from None
        self.passed += 1

    def expect(self, ok, what, hint):
        if not ok:
            raise Wrong(what, hint)


def short(error):
    """The error's first line; a boto3 parameter error whole, since its first line only says that one failed."""
    text = str(error).strip().splitlines()
    if isinstance(error, ParamValidationError):
        return " ".join(line.strip() for line in text)
    return text[0][:200] if text else repr(error)


def check(name, body, *args):
    """Print the verdict of ``body(checker, *args)``; never raise."""
    checker = Checker()
    try:
        summary = body(checker, *args)
    except NotDoneYet as error:
        print(f"{name}: not done yet ({error})")
    except Wrong as wrong:
        print(f"{name}: not right yet, on {checker.case}: {wrong.what}\n  hint: {wrong.hint}")
    except Exception:  # noqa: BLE001 - a checker must never raise at the participant
        print(f"{name}: the checker itself failed, please tell the instructor:\n{traceback.format_exc(limit=3)}")
    else:
        cases = f"{checker.passed} case" + ("s" if checker.passed != 1 else "")
        print(f"{name}: passed ({cases}{', ' + summary if summary else ''})")


def chart_axes(fig):
    """The one Axes of a participant's chart, or what is wrong with what they returned."""
    try:
        return figures.axes_of(fig)
    except ValueError as error:
        raise Wrong(str(error), "return the Figure you drew on (fig), one chart on one Axes") from None


def titled(c, ax, axes_say):
    text = figures.titles(ax)
    c.expect(text["title"], "the chart has no title", "ax.set_title(...): say what the room is looking at")
    c.expect(text["x"] and text["y"], f"an axis has no title (x: {text['x']!r}, y: {text['y']!r})",
             f"ax.set_xlabel(...) and ax.set_ylabel(...): {axes_say}")
