"""``copilot-tui config``: where the config lives, what it holds, and setting one key."""

from __future__ import annotations

import argparse

from ..errors import CopilotTuiError
from ..service.settings import config_file, defaults_in_effect, masked_config, set_config_value
from .common import EXIT_OK, error, exit_code_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="show, locate or change the config file")
    cs = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    cs.add_parser("path", help="print the config file path").set_defaults(handler=_guard(_path))
    cs.add_parser("show", help="print the config (secrets masked)").set_defaults(
        handler=_guard(_show)
    )
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


def _path(args: argparse.Namespace) -> int:
    print(config_file(args.config))
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    path = config_file(args.config)
    text = masked_config(path)
    if text is None:
        print(f"# {path} does not exist: these defaults are in use")
        print(defaults_in_effect(path, getattr(args, "data_dir", None)), end="")
        return EXIT_OK
    print(f"# {path}")
    print(text, end="")
    return EXIT_OK


def _set(args: argparse.Namespace) -> int:
    path = set_config_value(args.config, args.key, args.value)
    print(f"Set {args.key} in {path}.")
    return EXIT_OK
