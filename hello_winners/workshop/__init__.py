"""The workshop itself: ``play``, where each lesson starts, the exercises and their checkers, the notebook
tooling, the lessons' reports and the stand-ins the lessons and tests use."""
