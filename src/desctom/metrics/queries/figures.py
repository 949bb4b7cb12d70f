"""Plotly figure dicts (``{"data": [...], "layout": {...}}``) drawn in the browser by ``Plotly.newPlot``."""

from __future__ import annotations

from desctom.metrics.queries import delays
from desctom.metrics.queries.confusion import UNKNOWN
from desctom.survey.taxonomy import CLASSES

MARGIN = {"t": 50, "r": 20, "b": 60, "l": 70}
BLUES = [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]]  # light = few, dark = many


def class_label(classid: int) -> str:
    """``2222 Ia``; the unknown column is ``other/unknown``."""
    if classid == UNKNOWN:
        return "other/unknown"
    return f"{classid} {CLASSES.get(classid, '?')}"


def hours_bar(day, counts: dict[int, int]) -> dict:
    """Alerts sent in each UTC hour of one day."""
    hours = list(range(24))
    total = sum(counts.values())
    return {"data": [{"type": "bar", "x": hours, "y": [counts.get(h, 0) for h in hours], "name": "alerts"}],
            "layout": {"title": {"text": f"{day.isoformat()}: {total} alerts sent"}, "margin": MARGIN,
                       "xaxis": {"title": {"text": "UTC hour"}, "dtick": 1},
                       "yaxis": {"title": {"text": "alerts sent"}}}}


def hours_heatmap(days: list, table: dict[tuple, int]) -> dict:
    """Days (rows) by UTC hour (columns)."""
    z = [[table.get((d, h), 0) for h in range(24)] for d in days]
    return {"data": [{"type": "heatmap", "x": list(range(24)), "y": [d.isoformat() for d in days], "z": z,
                      "colorscale": BLUES, "hovertemplate": "%{y} %{x}h: %{z}<extra></extra>"}],
            "layout": {"title": {"text": "Alerts sent per UTC hour"}, "margin": {**MARGIN, "l": 100},
                       "xaxis": {"title": {"text": "UTC hour"}, "dtick": 1},
                       "yaxis": {"type": "category", "autorange": "reversed"},
                       "height": max(300, 60 + 18 * len(days))}}


def delay_hist(kind: str, nmessages: int, counts: list[int], what: str) -> dict:
    """One delay histogram over log10(seconds)."""
    edges = delays.bin_edges()
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return {"data": [{"type": "bar", "x": centres, "y": counts, "width": edges[1] - edges[0],
                      "name": delays.KINDS[kind],
                      "hovertemplate": "10^%{x:.3f} s: %{y}<extra></extra>"}],
            "layout": {"title": {"text": f"{delays.KINDS[kind]}: {what}, {nmessages} classifications"},
                       "margin": MARGIN, "bargap": 0,
                       "xaxis": {"title": {"text": "delay"}, "range": [delays.LOG_MIN, delays.LOG_MAX],
                                 "tickvals": [0, 1, 2, 3, 4, 5, 6],
                                 "ticktext": ["1 s", "10 s", "100 s", "1000 s", "10⁴ s", "10⁵ s", "≥10⁶ s"]},
                       "yaxis": {"title": {"text": "classifications"}}}}


def completeness_lines(days: list, series: dict[str, dict]) -> dict:
    """Fraction of each day's alerts classified, one line per classifier."""
    data = [{"type": "scatter", "mode": "lines+markers", "name": label,
             "x": [d.isoformat() for d in days], "y": [values.get(d) for d in days]}
            for label, values in series.items()]
    return {"data": data,
            "layout": {"title": {"text": "Fraction of alerts sent with ≥1 classification"}, "margin": MARGIN,
                       "xaxis": {"title": {"text": "day alerts were sent (UTC)"}, "type": "date"},
                       "yaxis": {"title": {"text": "fraction"}, "range": [0, 1.05]},
                       "legend": {"orientation": "h", "y": -0.25}}}


def confusion_heatmap(cells: dict[tuple, int], norm: str, title: str) -> dict:
    """Counts by (true, predicted), normalised by true class (rows) or predicted class (columns)."""
    trues = sorted({t for t, _ in cells})
    preds = sorted({p for _, p in cells}, key=lambda c: (c == UNKNOWN, c))
    rowsum = {t: sum(n for (tt, _), n in cells.items() if tt == t) for t in trues}
    colsum = {p: sum(n for (_, pp), n in cells.items() if pp == p) for p in preds}
    z, text = [], []
    for t in trues:
        zr, tr = [], []
        for p in preds:
            n = cells.get((t, p), 0)
            total = rowsum[t] if norm == "true" else colsum[p]
            frac = n / total if total else 0.0
            zr.append(frac)
            tr.append(f"{100 * frac:.0f}%<br>{n}" if n else "")
        z.append(zr)
        text.append(tr)
    return {"data": [{"type": "heatmap", "z": z, "text": text, "texttemplate": "%{text}",
                      "x": [class_label(p) for p in preds], "y": [class_label(t) for t in trues],
                      "colorscale": BLUES, "zmin": 0, "zmax": 1,
                      "hovertemplate": "true %{y}<br>predicted %{x}<br>%{z:.3f}<extra></extra>"}],
            "layout": {"title": {"text": title}, "margin": {"t": 60, "r": 20, "b": 140, "l": 140},
                       "xaxis": {"title": {"text": "predicted class"}, "type": "category"},
                       "yaxis": {"title": {"text": "true class"}, "type": "category",
                                 "autorange": "reversed"},
                       "height": max(400, 220 + 40 * len(trues))}}


def prob_lines(series: dict[int, dict[int, float]], title: str) -> dict:
    """Mean probability of each class vs days from peak."""
    data = []
    for classid in sorted(series):
        points = sorted(series[classid].items())
        data.append({"type": "scatter", "mode": "lines+markers", "name": class_label(classid),
                     "x": [d for d, _ in points], "y": [p for _, p in points]})
    return {"data": data,
            "layout": {"title": {"text": title}, "margin": MARGIN, "showlegend": True,
                       "xaxis": {"title": {"text": "days from peak"}, "range": [-20.5, 90.5]},
                       "yaxis": {"title": {"text": "mean probability"}, "range": [0, 1.02]}}}
