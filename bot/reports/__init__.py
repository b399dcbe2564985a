"""The hotline's figures and reports (docs/figures.md).

``await compute_report(db, since, until, group=..., filters=..., department_scope=...)``
returns the JSON document; ``bot.reports.export`` turns it into CSV or XLSX.
"""

from bot.reports.compute import LABELS, ReportError, compute_report

__all__ = ["LABELS", "ReportError", "compute_report"]
