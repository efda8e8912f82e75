#!/usr/bin/env bash
# The whole test suite, from nothing: install what the tests need on a fresh Debian machine, make a
# private venv (so PEP 668 on a distribution's python3 does not stop us), then run the checks and pytest.
# Safe to run again: apt, venv and pip skip what is already there.
#   VENVPROBE_TEST_PYTHON  interpreter the venv is made from (default: python3 on PATH)
#   VENVPROBE_TEST_VENV    where the venv lives (default: .venv in the repository)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Real servers and the tools that consume venvprobe's output (chromium: the HTML page's layout tests). Debian's mod_wsgi and uWSGI embed
  # /usr/bin/python3; apache2-dev gives apxs for building mod_wsgi 6 with pip. One package a line.
  apt-get install -y -qq --no-install-recommends \
    apache2 \
    apache2-dev \
    chromium \
    iproute2 \
    libapache2-mod-wsgi-py3 \
    prometheus \
    python3-dev \
    python3-pip \
    python3-venv \
    uwsgi \
    uwsgi-plugin-python3 \
    wrk \
    >/dev/null
fi
py=${VENVPROBE_TEST_PYTHON:-python3}
venv=${VENVPROBE_TEST_VENV:-.venv}
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
# Tests run the console script and the venv's tools by name.
export PATH="$PWD/$venv/bin:$PATH" VIRTUAL_ENV="$PWD/$venv"
# Lint and types first (seconds); a failure there fails the run, but pytest still runs and reports.
status=0
"$venv/bin/ruff" check . || status=1
"$venv/bin/mypy" || status=1
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" || status=$?
exit "$status"
