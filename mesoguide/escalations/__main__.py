"""``python -m mesoguide.escalations``: see :mod:`mesoguide.escalations.cli`."""

import sys

from mesoguide.escalations.cli import main

sys.exit(main())
