"""The adherence chart: a small PNG drawn with matplotlib's Agg backend (no display needed).

matplotlib (with numpy) is imported by the first chart, not with this module: the web and worker
processes import it through the dialogs, and it was ~0.4 s of CPU and ~35 MB of each one's
start-up for a chart most processes never draw.
"""

from __future__ import annotations

import io
from datetime import date
from typing import TYPE_CHECKING

from babel.dates import format_skeleton

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def adherence_png(
    days: list[date], percents: list[float | None], title: str, locale: str = "en"
) -> bytes:
    """A bar chart of the share of doses taken per day; days without doses are left empty.
    The days are labelled in ``locale`` (:func:`day_labels`)."""
    figure = _figure_class()(figsize=(6, 2.6), dpi=100)
    axes = figure.add_subplot()
    values = [p if p is not None else 0.0 for p in percents]
    colors = ["#2e7d32" if (p or 0) >= 80 else "#f9a825" if (p or 0) >= 50 else "#c62828"
              for p in values]  # fmt: skip
    axes.bar(range(len(days)), values, color=colors, width=0.8)
    axes.set_ylim(0, 100)
    axes.set_title(title, fontsize=10)
    step = max(1, len(days) // 6)
    ticks = list(range(0, len(days), step))
    axes.set_xticks(ticks, day_labels([days[i] for i in ticks], locale), fontsize=8)
    axes.tick_params(axis="y", labelsize=8)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def day_labels(days: list[date], locale: str) -> list[str]:
    """Days as the patient's language writes a month and day ("Nov 5", "5 nov"): "05/11" read as
    May 11 in English."""
    return [format_skeleton("MMMd", day, locale=locale) for day in days]


def _figure_class() -> type[Figure]:
    """matplotlib's Figure on the Agg backend, imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure
