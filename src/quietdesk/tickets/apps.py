from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "quietdesk.tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from quietdesk.db.maintenance import analyze_after_migrate

        post_migrate.connect(analyze_after_migrate, sender=self)
