"""ASGI entry point: HTTP through Django (one thread hop per request, see handler.py);
WebSockets join here with live chat."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quietdesk.settings")
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from quietdesk.handler import OneHopASGIHandler  # noqa: E402

django_application = OneHopASGIHandler()

application = ProtocolTypeRouter({"http": ASGIStaticFilesHandler(django_application)})
