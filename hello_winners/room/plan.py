"""The room plan: each lesson's title, the minutes docs/instructors.md gives it, and its exercises.

The instructor's progress page reads the room's pace against these times, the room server checks
that a participant's report names an exercise of the workshop, and the lessons' checkers take their
names from here (``workshop.exercises.EXERCISES``). Change a time here and in the plan's table in
docs/instructors.md together (a test holds them equal).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Lesson:
    """One lesson of the day: its number, title, planned minutes, and its exercises in the order asked."""

    number: int
    title: str
    minutes: int
    exercises: tuple[str, ...]


PLAN = (
    Lesson(0, "set-up", 10, ()),
    Lesson(1, "the stream", 25, ("put_event", "read_back")),
    Lesson(2, "write the consumer", 70,
           ("decode_record", "validate_event", "record_contribution", "tally_purchase", "handle_batch")),
    Lesson(3, "deploy to Lambda", 65, ("build_zip", "consumer_policy", "create_role", "create_function",
                                       "connect_stream")),
    Lesson(4, "who is winning", 40, ("top_of_role", "scores_frame", "leaderboard_chart")),
    Lesson(5, "delivery for real", 45, ("purchase_once", "handle_batch_once")),
    Lesson(6, "extra credit", 40, ("contributor_sales", "race_chart", "sales_per_category")),
    Lesson(7, "clean up", 20, ("stage_leftovers",)),
)

#: Every exercise of the day, in the order the lessons ask for them.
EXERCISES: tuple[str, ...] = tuple(name for lesson in PLAN for name in lesson.exercises)
#: The lesson of each exercise.
LESSON_OF: dict[str, int] = {name: lesson.number for lesson in PLAN for name in lesson.exercises}


def planned_by(exercise: str) -> int:
    """Minutes from the day's start by which the plan has the room past ``exercise``: the lessons before its
    own, and its own lesson's time shared evenly among its exercises up to this one."""
    lesson = PLAN[LESSON_OF[exercise]]
    before = sum(earlier.minutes for earlier in PLAN[: lesson.number])
    share = (lesson.exercises.index(exercise) + 1) / len(lesson.exercises)
    return before + round(lesson.minutes * share)


def lesson_at(minutes: float) -> Lesson:
    """The lesson the plan has the room in, ``minutes`` after the day's start (the last one after its end)."""
    end = 0
    for lesson in PLAN:
        end += lesson.minutes
        if minutes < end:
            return lesson
    return PLAN[-1]
