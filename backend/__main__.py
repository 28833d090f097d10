"""``python -m backend`` runs the ``dutydesk`` command."""

import sys

from backend.cli import main

sys.exit(main())
