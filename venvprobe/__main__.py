"""``python -m venvprobe``: the same as the ``venvprobe`` command."""

from venvprobe._cli import exit_now, main

exit_now(main())
