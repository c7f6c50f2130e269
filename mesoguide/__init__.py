"""MesoGuide: shared code of the Rasa server and the action server.

Knowledge loading (:mod:`mesoguide.knowledge`), the guardrail with its precedence
(:mod:`mesoguide.guardrail`) and the names that cross module boundaries
(:mod:`mesoguide.constants`) live here once, so the two servers cannot drift apart.
"""

__version__ = "0.1.0"
