"""Charts as PNG images (matplotlib, drawn off-screen)."""

from io import BytesIO
from itertools import accumulate

from services.digests import Digest


def digest_chart(digest: Digest, over_time: str, by_unit: str) -> bytes:
    """Draw a digest's submissions over the period (running total) and by unit."""
    from matplotlib.figure import Figure  # imported here: it takes a second to load

    figure = Figure(figsize=(9, 3.6), dpi=100)
    timeline, units = figure.subplots(1, 2)
    days = [day for day, _ in digest.daily]
    timeline.plot(days, list(accumulate(n for _, n in digest.daily)), marker="o")
    timeline.set_title(over_time)
    timeline.tick_params(axis="x", labelrotation=45, labelsize=7)
    names = [unit.name[:24] for unit, _ in reversed(digest.units)]
    units.barh(names, [counts.new for _, counts in reversed(digest.units)])
    units.set_title(by_unit)
    units.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    image = BytesIO()
    figure.savefig(image, format="png")
    return image.getvalue()
