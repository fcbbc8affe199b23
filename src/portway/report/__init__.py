"""The evaluation report: one self-contained HTML file (metrics, curves, confusion matrix,
feature importance, data profile, and the champion beside the candidate)."""

from portway.report.document import build_report, format_metric, render_report

__all__ = ["build_report", "format_metric", "render_report"]
