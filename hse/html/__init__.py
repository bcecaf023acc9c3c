"""Self-contained HTML pages: the report of one result and the leaderboard index (docs/html.md).

* :mod:`hse.html.page` - the page skeleton: inline style, escaping, sortable tables, figures;
* :mod:`hse.html.gallery` - the error gallery: thumbnails with targets and components outlined;
* :mod:`hse.html.report` - one :class:`~hse.result.Result` to a report (:func:`render_report`);
* :mod:`hse.html.leaderboard` - the leaderboard index page.

Pages load nothing: figures are inline SVG, thumbnails PNG data URIs, the one script (sorting tables)
is inline and the page reads in full without it. matplotlib is needed for the figures.
"""

from .report import render_report, result_to_html, write_report

__all__ = ["render_report", "result_to_html", "write_report"]
