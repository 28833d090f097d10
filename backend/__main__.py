"""``python -m backend`` runs the ``dutydesk`` command."""

import sys

from backend.cli.app import main

sys.exit(main())
