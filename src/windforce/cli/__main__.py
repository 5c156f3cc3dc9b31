"""``python -m windforce.cli``: the same as the ``windforce`` command."""

import sys

from windforce.cli import main

sys.exit(main())
