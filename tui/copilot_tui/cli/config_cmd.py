"""``copilot-tui config``: where the config lives, what it holds, and setting one key."""

from __future__ import annotations

import argparse

import tomli_w

from ..config import default_config_path, load_config, parse_value, redacted, set_value
from ..errors import CopilotTuiError
from .common import EXIT_OK, error, exit_code_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="show, locate or change the config file")
    cs = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    cs.add_parser("path", help="print the config file path").set_defaults(handler=_guard(_path))
    cs.add_parser("show", help="print the config (secrets masked)").set_defaults(handler=_guard(_show))
    st = cs.add_parser("set", help="set KEY (dotted, e.g. providers.lab.base_url) to VALUE")
    st.add_argument("key")
    st.add_argument("value", help="a TOML value (number, true/false, [list]) or plain text")
    st.set_defaults(handler=_guard(_set))


def _guard(fn):  # noqa: ANN001, ANN202
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except CopilotTuiError as exc:
            error(str(exc))
            return exit_code_for(exc)

    return run


def _config_path(args: argparse.Namespace):  # noqa: ANN202
    from pathlib import Path

    return Path(args.config).expanduser() if args.config else default_config_path()


def _path(args: argparse.Namespace) -> int:
    print(_config_path(args))
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    cfg = load_config(_config_path(args))
    if not cfg.exists:
        print(f"# {cfg.path} does not exist: defaults are in use")
        return EXIT_OK
    print(f"# {cfg.path}")
    print(tomli_w.dumps(redacted(cfg.raw)), end="")
    return EXIT_OK


def _set(args: argparse.Namespace) -> int:
    path = _config_path(args)
    set_value(path, args.key, parse_value(args.value))
    print(f"Set {args.key} in {path}.")
    return EXIT_OK
