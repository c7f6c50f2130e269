"""MesoGuide's custom actions (rasa_sdk), one module per action.

The action server imports this package; every ``Action`` subclass below registers itself.
Shared logic (knowledge, guardrail, precedence) comes from the ``mesoguide`` package, so the
action server and the Rasa server apply the same rules.
"""
