"""``copilot-tui models``: every model by provider, and why a provider is not usable."""

from __future__ import annotations

import argparse
import json

from ..service import CopilotClient
from .common import EXIT_OK, run_with_client


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the models of every provider")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=lambda a: run_with_client(_models, a))


async def _models(client: CopilotClient, args: argparse.Namespace) -> int:
    statuses = await client.provider_statuses(refresh=True)
    if args.json:
        doc = {"default_model": client.default_model, "providers": [s.to_dict() for s in statuses]}
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    if not statuses:
        print("No providers configured. See the README for [providers] in the config file.")
    for s in statuses:
        head = f"{s.name} ({s.type})"
        if not s.usable:
            print(f"{head}: not usable: {s.reason}")
            if s.fix:
                print(f"  fix: {s.fix}")
            continue
        print(f"{head}:")
        for m in s.models:
            mark = " (default)" if m.id == client.default_model else ""
            note = f"  [{m.note}]" if m.note else ""
            unsupported = "  [unsupported]" if not m.supported else ""
            print(f"  {m.id}{mark}{unsupported}{note}")
    return EXIT_OK
