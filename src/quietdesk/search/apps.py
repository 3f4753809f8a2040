from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "quietdesk.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from quietdesk.search import tasks  # noqa: F401 - subscribes to domain events
