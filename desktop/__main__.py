"""``python -m desktop``: the console without the ``dutydesk`` entry point."""

import sys

from desktop.cli import main

sys.exit(main())
