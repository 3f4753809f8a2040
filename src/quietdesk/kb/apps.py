from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeBaseConfig(AppConfig):
    name = "quietdesk.kb"
    label = "kb"
    verbose_name = _("Knowledge base")
