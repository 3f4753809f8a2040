from django.db import migrations


def create_counter(apps, schema_editor):  # type: ignore[no-untyped-def]
    counter_model = apps.get_model("tickets", "TicketCounter")
    ticket_model = apps.get_model("tickets", "Ticket")
    last = ticket_model.objects.order_by("-number").values_list("number", flat=True).first()
    counter_model.objects.get_or_create(id=1, defaults={"value": last or 1000})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(create_counter, migrations.RunPython.noop)]
