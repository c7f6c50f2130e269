"""The guardrail rail: vocabularies -> spaCy pipeline -> matches -> escalation.

Read it top to bottom: :mod:`.pipeline` builds the spaCy pipeline from ``knowledge/``,
:mod:`.matcher` turns a doc into matches, :mod:`mesoguide.rasa_components.guardrail_router`
routes a Rasa message by them, and ``actions/escalate.py`` says what the patient sees.
"""
