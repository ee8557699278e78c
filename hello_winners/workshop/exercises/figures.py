"""What a participant's chart shows, read from its Figure's artists, so a checker can name what is missing.

The checks judge a chart by what a reader sees (bars in screen order, their labels and colours, the
titles, the lines and their legend), not by how it was drawn: ``bar`` or ``barh``, pyplot or not.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    colour: tuple


def axes_of(fig: Figure) -> Axes:
    """The one Axes a checked chart draws on; a ValueError sentence otherwise."""
    if not isinstance(fig, Figure):
        raise ValueError(f"it returned a {type(fig).__name__}, not a matplotlib Figure")
    drawn = fig.get_axes()
    if len(drawn) != 1:
        raise ValueError(f"the figure has {len(drawn)} axes, expected one")
    fig.draw_without_rendering()  # lays out ticks and their labels, as showing it would
    return drawn[0]


def bars(ax: Axes) -> list[Bar]:
    """The bars as a reader meets them: left to right, or top to bottom for horizontal bars."""
    found, horizontal = [], False
    for container in (c for c in ax.containers if isinstance(c, BarContainer)):
        horizontal = container.orientation == "horizontal"
        axis = ax.yaxis if horizontal else ax.xaxis
        labels = {round(float(tick), 6): text.get_text()
                  for tick, text in zip(axis.get_majorticklocs(), axis.get_ticklabels())}
        for patch in container:
            centre = patch.get_y() + patch.get_height() / 2 if horizontal else patch.get_x() + patch.get_width() / 2
            value = patch.get_width() if horizontal else patch.get_height()
            found.append((centre, Bar(labels.get(round(centre, 6), ""), value, tuple(patch.get_facecolor()))))
    ascending = ax.yaxis_inverted() if horizontal else not ax.xaxis_inverted()  # y grows upwards on screen
    return [bar for _, bar in sorted(found, key=lambda f: f[0], reverse=not ascending)]


def titles(ax: Axes) -> dict[str, str]:
    """The chart's title and axis titles ("" when missing)."""
    title = next((t for t in (ax.get_title(loc) for loc in ("center", "left", "right")) if t), "")
    return {"title": title, "x": ax.get_xlabel(), "y": ax.get_ylabel()}



def lines(ax: Axes) -> dict[str, list[float]]:
    """Each labelled line's y values, by its label (as the legend shows it)."""
    return {line.get_label(): [float(y) for y in line.get_ydata()]
            for line in ax.get_lines() if not line.get_label().startswith("_")}
