"""Django's wsgi.py, with the venvprobe middleware wrapped around the Django app.

Only /_venvprobe/... goes to the probe; every other request reaches Django untouched.
"""

import os

from django.core.wsgi import get_wsgi_application

from venvprobe.middleware import ProbeMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

application = ProbeMiddleware(get_wsgi_application())
