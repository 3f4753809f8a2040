"""A default calendar to edit: Monday to Friday, 09:00 to 18:00, in the server's zone."""

import datetime

from django.conf import settings
from django.db import migrations


def create_default(apps, schema_editor):
    Calendar = apps.get_model("schedule", "Calendar")
    OpeningHours = apps.get_model("schedule", "OpeningHours")
    if Calendar.objects.filter(is_default=True).exists():
        return
    calendar = Calendar.objects.create(
        name="Standard hours", time_zone=settings.TIME_ZONE, is_default=True
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(
            calendar=calendar, weekday=day, start=datetime.time(9), end=datetime.time(18)
        )
        for day in range(5)
    )


class Migration(migrations.Migration):
    dependencies = [("schedule", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
