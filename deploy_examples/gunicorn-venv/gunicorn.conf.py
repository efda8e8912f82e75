# Start with the venv's own gunicorn so the venv's interpreter runs the app:
#   /srv/example/venv/bin/gunicorn -c gunicorn.conf.py app:application
bind = "127.0.0.1:8000"
workers = 2
chdir = "/srv/example/app"
