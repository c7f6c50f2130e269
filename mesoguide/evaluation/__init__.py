"""Measured quality: run YAML case files through the real assistant and report the numbers.

:mod:`.cases` reads and checks case files, :mod:`.runner` sends them through a running
assistant over REST, :mod:`.metrics` computes the numbers, :mod:`.report` writes JSON,
Markdown and a confusion-matrix PNG. ``python -m mesoguide.evaluation`` (``make eval``) runs it.
"""
