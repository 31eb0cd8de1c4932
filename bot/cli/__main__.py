"""`python -m bot.cli` runs the `sotay` command."""

import sys

from bot.cli import main

sys.exit(main())
