"""The staff dashboard: a small web app, separate from the patient-facing server.

``python -m mesoguide.dashboard --port 5070`` (``make run`` starts it). See :mod:`.app`.
"""
