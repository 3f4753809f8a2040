from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "quietdesk.mail"
    label = "mail"
    verbose_name = _("Email")

    def ready(self) -> None:
        from quietdesk.mail import outbound  # noqa: F401 - subscribes to ticket events
