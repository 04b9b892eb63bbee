"""Charts as PNG images (matplotlib, drawn off-screen), from plain data.

What a chart shows is a small frozen dataclass of dates, numbers and strings, so that
it can be drawn in another thread or process and only the PNG comes back.
"""

from dataclasses import dataclass
from datetime import date
from io import BytesIO
from itertools import accumulate


@dataclass(frozen=True)
class DigestChart:
    """A digest's chart: submissions per day (drawn as a running total), new per unit."""

    days: tuple[tuple[date, int], ...]
    units: tuple[tuple[str, int], ...]  # the leading units first
    over_time: str  # the titles, in the reader's language
    by_unit: str


def draw(chart: DigestChart) -> bytes:
    """Draw a digest's submissions over the period (running total) and by unit."""
    from matplotlib.figure import Figure  # imported here: it takes a second to load

    figure = Figure(figsize=(9, 3.6), dpi=100)
    timeline, units = figure.subplots(1, 2)
    timeline.plot(
        [day for day, _ in chart.days],
        list(accumulate(n for _, n in chart.days)),
        marker="o",
    )
    timeline.set_title(chart.over_time)
    timeline.tick_params(axis="x", labelrotation=45, labelsize=7)
    leading_last = chart.units[::-1]
    units.barh([name[:24] for name, _ in leading_last], [new for _, new in leading_last])
    units.set_title(chart.by_unit)
    units.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    image = BytesIO()
    figure.savefig(image, format="png")
    return image.getvalue()
