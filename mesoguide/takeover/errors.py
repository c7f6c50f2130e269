"""The one error a takeover step raises: its message is shown to the staff member as it is."""

from __future__ import annotations

from mesoguide.errors import MesoGuideError


class TakeoverError(MesoGuideError):
    """A takeover step could not be done; the message says why and what to do."""
