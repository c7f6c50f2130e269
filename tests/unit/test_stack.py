"""How the stack starts the Rasa server (no server is started here)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rasa.__main__ import create_argument_parser

from mesoguide.stack import isolated_config, rasa_server_argv


def test_a_token_starting_with_a_dash_reaches_rasa_intact(tmp_path: Path) -> None:
    """secrets.token_urlsafe can start with "-"; `--auth-token -abc` made `rasa run` exit 2."""
    config = dataclasses.replace(isolated_config(tmp_path), auth_token="-Ab_c-123")
    argv = rasa_server_argv(config)
    args = create_argument_parser().parse_args(argv[argv.index("run"):])  # what follows the program: Rasa's own CLI
    assert args.auth_token == "-Ab_c-123"
    assert args.enable_api is True
    assert args.port == config.rasa_port
