"""The drift report as one self-contained HTML file.

A verdict table and, per column, the reference and current distributions drawn side by side
(PNG, inlined, so the file opens offline from the bucket or MLflow's artifact view). Every
value is HTML-escaped.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from stratakit.monitor.drift import DriftReport
    from stratakit.monitor.statistics import ColumnDrift

_COLOURS = {"drift": "#b3261e", "ok": "#1e6b34", "not enough data": "#6b5a00"}
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}
table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
th{background:#f2f2f2}
.verdict{font-weight:bold}
figure{display:inline-block;margin:.5rem}
"""


def _plot(
    column: ColumnDrift, reference: npt.NDArray[np.generic], current: npt.NDArray[np.generic]
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4.2, 2.6), dpi=90)
    try:
        if column.kind == "numeric":
            ref = reference.astype("float64")
            cur = current.astype("float64")
            ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
            both = np.concatenate([ref, cur])
            edges = list(np.histogram_bin_edges(both, bins=30)) if len(both) else 10
            axes.hist(ref, bins=edges, density=True, alpha=0.55, label="reference")
            axes.hist(cur, bins=edges, density=True, alpha=0.55, label="current")
        else:
            ref_s, cur_s = reference.astype(str), current.astype(str)
            labels = sorted(set(ref_s.tolist()) | set(cur_s.tolist()))[:20]
            x = np.arange(len(labels))
            share = [
                [(values == label).mean() if len(values) else 0.0 for label in labels]
                for values in (ref_s, cur_s)
            ]
            axes.bar(x - 0.2, share[0], width=0.4, label="reference")
            axes.bar(x + 0.2, share[1], width=0.4, label="current")
            axes.set_xticks(x, labels, rotation=45, ha="right", fontsize=7)
        axes.set_title(column.column, fontsize=9)
        axes.legend(fontsize=7)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_html(
    report: DriftReport,
    samples: Mapping[str, tuple[npt.NDArray[np.generic], npt.NDArray[np.generic]]],
) -> str:
    """The report; ``samples`` maps a column to its (reference, current) values for plots."""
    rows = []
    for c in report.columns:
        colour = _COLOURS[c.verdict]
        rows.append(
            "<tr>"
            f"<td>{escape(c.column)}</td><td>{c.kind}</td><td>{c.statistic}</td>"
            f"<td>{_number(c.value)}</td><td>{c.threshold:g}</td><td>{_number(c.p_value, 4)}</td>"
            f"<td>{c.current_rows}</td><td>{c.current_missing:.1%}</td>"
            f"<td>{escape(', '.join(c.unseen) or '-')}</td>"
            f'<td class="verdict" style="color:{colour}">{c.verdict}</td>'
            f"<td>{escape('; '.join(c.reasons) or '-')}</td>"
            "</tr>"
        )
    figures = []
    for c in report.columns:
        if c.column in samples and c.verdict != "not enough data":
            image = _plot(c, *samples[c.column])
            figures.append(
                f'<figure><img alt="{escape(c.column)}: reference and current distributions" '
                f'src="data:image/png;base64,{image}"></figure>'
            )
    title = f"Drift of {report.model} version {report.version}"
    verdict_colour = _COLOURS[report.verdict]
    reference = report.reference
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{_STYLE}</style></head>
<body><main>
<h1>{escape(title)}</h1>
<p>Verdict: <span class="verdict" style="color:{verdict_colour}">{report.verdict}</span>
({len(report.drifted)} of {len(report.columns)} columns drifted)</p>
<p>Window: {escape(report.window)}, {report.rows} logged rows; checked {escape(report.checked_at)}.
Reference: {escape(reference.get("data_path", "-"))} (DVC {escape(reference.get("md5", "-"))},
{reference.get("rows", 0)} rows).</p>
<table><thead><tr><th scope="col">column</th><th scope="col">kind</th>
<th scope="col">statistic</th><th scope="col">value</th><th scope="col">threshold</th>
<th scope="col">p-value</th><th scope="col">rows</th><th scope="col">missing</th>
<th scope="col">unseen</th><th scope="col">verdict</th><th scope="col">why</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<section><h2>Distributions</h2>{"".join(figures) or "<p>No column had enough data.</p>"}</section>
</main></body></html>
"""
