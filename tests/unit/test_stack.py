"""How the stack starts the Rasa server (no server is started here)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rasa.__main__ import create_argument_parser

from mesoguide.runtime.rasa_server import ENV_API_TOKEN, with_api_token
from mesoguide.stack import action_server_argv, isolated_config, rasa_server_argv


def test_the_api_token_is_not_on_the_command_line(tmp_path: Path) -> None:
    """Every local user can read a process's command line: the token goes in the environment."""
    config = dataclasses.replace(isolated_config(tmp_path), auth_token="-Ab_c-123-secret")
    argv = rasa_server_argv(config) + action_server_argv(config)
    assert not any(config.auth_token in a or config.action_token in a for a in argv)


def test_a_token_starting_with_a_dash_reaches_rasa_intact(tmp_path: Path) -> None:
    """secrets.token_urlsafe can start with "-"; `--auth-token -abc` made `rasa run` exit 2."""
    config = isolated_config(tmp_path)
    argv = with_api_token(rasa_server_argv(config), {ENV_API_TOKEN: "-Ab_c-123"})
    args = create_argument_parser().parse_args(argv[argv.index("run"):])  # what follows the program: Rasa's own CLI
    assert args.auth_token == "-Ab_c-123"
    assert args.enable_api is True
    assert args.port == config.rasa_port
    assert args.interface == "127.0.0.1"
    assert args.cors == [config.rasa_url], "CORS: the server's own origin unless configured"
