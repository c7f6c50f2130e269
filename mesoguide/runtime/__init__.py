"""The runtime around Rasa: never silent, closed by default, bounded input.

* :mod:`.never_silent`: every message answered by the Rasa server itself when the normal path
  cannot (action server down, slow or failing; NLU error; input too long; too many messages);
* :mod:`.http_guard`: body limits, malformed bodies, the REST token, the REST rate limit;
* :mod:`.action_auth`: the action server runs only calls that carry the shared secret;
* :mod:`.rasa_server`: the entry point that applies them to Rasa's own CLI.

``docs/security.md`` is the threat model they implement.
"""

from __future__ import annotations

#: Limits for a harness that plays many patients from one address (the safety gate, `make eval`):
#: the per-address REST limit would otherwise throttle the harness, not a patient.
MANY_PATIENTS_ONE_ADDRESS = {"MESOGUIDE_REST_BURST": "100000", "MESOGUIDE_REST_PER_SECOND": "100000"}
#: Limits for load tests, whose simulated patients type far faster than people (chaos, benchmarks).
LOAD_TEST = {**MANY_PATIENTS_ONE_ADDRESS, "MESOGUIDE_RATE_BURST": "100000", "MESOGUIDE_RATE_PER_SECOND": "100000"}
