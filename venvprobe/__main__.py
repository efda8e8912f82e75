"""``python -m venvprobe``: the same as the ``venvprobe`` command."""

import sys

from venvprobe._cli import main

sys.exit(main())
