"""``python -m mesoguide.dashboard [--host 127.0.0.1] [--port 5070]``: the staff dashboard."""

from __future__ import annotations

import argparse
import logging

from mesoguide.dashboard.app import create_app
from mesoguide.dashboard.live import LiveDesk
from mesoguide.escalations import EscalationConfig, store_from_config


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mesoguide.dashboard", description="MesoGuide staff dashboard")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5070)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    config = EscalationConfig.from_env()
    store = store_from_config(config)
    app = create_app(store, config, desk=LiveDesk.from_env(store))
    app.run(host=args.host, port=args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
