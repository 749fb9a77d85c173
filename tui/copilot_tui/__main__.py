"""``python -m copilot_tui``: the same as the ``copilot-tui`` command."""

import sys

from .cli.main import main

sys.exit(main())
