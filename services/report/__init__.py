"""The shift handover report: what happened in a time window, read from the offline cache
(``handover``); the window turns it into HTML or PDF (``ui.report_render``)."""
