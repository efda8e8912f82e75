"""``python -m venvprobe.schemas --write``: regenerate the shipped schema files from the code."""

import sys

from venvprobe.schemas import write_all

if sys.argv[1:] != ["--write"]:
    sys.exit("usage: python -m venvprobe.schemas --write")
write_all()
