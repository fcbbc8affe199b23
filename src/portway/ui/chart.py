"""Geometry of the group page's chart: the gate metric over versions, the champion marked.

Only numbers come out of here; the template draws them as inline SVG (autoescaped like the
rest of the page), so nothing from a record reaches the markup unescaped.
"""

from __future__ import annotations

WIDTH, HEIGHT = 720, 240
MARGIN = {"left": 56, "right": 24, "top": 20, "bottom": 36}
TICKS = 5


def metric_chart(records: list[dict], metric: str, champion_version: int | None) -> dict | None:
    """Points, axis ticks and the line for `metric` of `records` (oldest first); None without data."""
    values = [(r["version"], (r.get("metrics") or {}).get(metric), r.get("approval_status", "?")) for r in records]
    values = [(v, m, s) for v, m, s in values if isinstance(m, int | float)]
    if not values:
        return None
    low, high = min(m for _, m, _ in values), max(m for _, m, _ in values)
    pad = (high - low) * 0.1 or 0.05
    low, high = low - pad, high + pad
    plot_w = WIDTH - MARGIN["left"] - MARGIN["right"]
    plot_h = HEIGHT - MARGIN["top"] - MARGIN["bottom"]

    def x_of(i: int) -> float:
        return MARGIN["left"] + (plot_w * i / (len(values) - 1) if len(values) > 1 else plot_w / 2)

    def y_of(value: float) -> float:
        return MARGIN["top"] + plot_h * (high - value) / (high - low)

    points = [{"x": round(x_of(i), 1), "y": round(y_of(m), 1), "version": v, "value": f"{m:.4f}",
               "status": s, "champion": v == champion_version} for i, (v, m, s) in enumerate(values)]
    ticks = [{"y": round(y_of(low + (high - low) * k / (TICKS - 1)), 1),
              "label": f"{low + (high - low) * k / (TICKS - 1):.3f}"} for k in range(TICKS)]
    return {"width": WIDTH, "height": HEIGHT, "metric": metric, "points": points, "ticks": ticks,
            "line": " ".join(f"{p['x']},{p['y']}" for p in points),
            "left": MARGIN["left"], "right": WIDTH - MARGIN["right"], "bottom": HEIGHT - MARGIN["bottom"],
            "top": MARGIN["top"], "label_y": HEIGHT - 10}
