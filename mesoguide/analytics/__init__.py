"""What patients ask: the clinic's numbers, from what the assistant already records.

Nothing extra is written on the message path. Everything is read afterwards:

* Rasa's SQL tracker store (``MESOGUIDE_TRACKER_URL``): every patient message and every turn's
  ``turn_outcome`` (the audit contract), so conversations per day and channel, answers per
  topic, the fallback rate and the questions that fell back (:mod:`.turns`);
* the escalation database: escalations per reason and urgency, and when staff first reached the
  patient (their first message in a takeover, or the record marked contacted or resolved).

The questions that fell back are redacted (:func:`mesoguide.escalations.redaction.redact`) and
grouped by similarity (:mod:`.grouping`), so a content editor sees what to add next. Charts are
SVG drawn by the server (:mod:`.charts`): no script, nothing from another site.
"""

from mesoguide.analytics.report import Report, build_report

__all__ = ["Report", "build_report"]
