"""WSGI entry point used by gunicorn (``desctom.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desctom.settings")
application = get_wsgi_application()
