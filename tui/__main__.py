"""``python -m tui`` runs the incident-tui CLI."""

import sys

from tui.cli import main

sys.exit(main())
