"""Text tables as the benchmarks print them: right-aligned cells separated by ` | `."""

from collections.abc import Sequence


def render(title: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Format a title, a header row, a rule and the rows."""
    lines = [tuple(head), *(tuple(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    rendered = [
        " | ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in lines
    ]
    rendered.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join([title, *rendered])
