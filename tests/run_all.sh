#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it.
# Safe to run again: apt and pip skip what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Real servers for the integration tests (Debian's mod_wsgi and uWSGI embed /usr/bin/python3).
  apt-get install -y -qq --no-install-recommends \
    apache2 libapache2-mod-wsgi-py3 uwsgi uwsgi-plugin-python3 python3-venv python3-pip iproute2 wrk prometheus >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e ".[test]"
exec python3 -m pytest -q -p no:cacheprovider "$@"
