from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from quietdesk.api.main import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    # The words of quietdesk.js in the reader's language (the djangojs catalogue).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("quietdesk.web.urls")),
]
