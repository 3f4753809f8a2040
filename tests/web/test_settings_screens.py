"""The admin screens for business hours and SLA policies."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from quietdesk.schedule.models import Calendar
from quietdesk.sla.models import Policy

pytestmark = pytest.mark.django_db


def signed_in(person, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(person)
    person.language = language
    person.save(update_fields=["language"])
    return client


def week(**overrides: str) -> dict[str, str]:
    """The opening-hours grid as the browser posts it: Monday to Friday 09:00–17:00."""
    data = {}
    for day in range(5):
        data[f"open-{day}-0-start"] = "09:00"
        data[f"open-{day}-0-end"] = "17:00"
    data.update(overrides)
    return data


def test_only_administrators_reach_the_settings(world):
    for person in (world.agent, world.customer):
        assert signed_in(person).get("/settings/hours/").status_code == 403
        assert signed_in(person).get("/settings/sla/").status_code == 403
    anonymous = Client().get("/settings/hours/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/")
    page = signed_in(world.admin).get("/inbox/")
    assert 'href="/settings/hours/"' in page.content.decode()


def test_an_admin_creates_a_calendar_with_holidays_and_special_days(world):
    client = signed_in(world.admin)
    form = client.get("/settings/hours/new")
    assert form.status_code == 200
    assert "Monday" in form.content.decode()
    response = client.post(
        "/settings/hours/new",
        {
            "name": "Lyon office",
            "time_zone": "Europe/Paris",
            "holiday_country": "FR",
            "special_days": (
                "2026-12-24 closed Christmas Eve\n2026-12-31 09:00-12:00 New Year's Eve"
            ),
            **week(
                **{"open-4-1-start": "22:00", "open-4-1-end": "02:00", "open-4-1-overnight": "on"}
            ),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar = Calendar.objects.get(name="Lyon office")
    assert calendar.holiday_country == "FR"
    assert calendar.openings.count() == 6
    assert calendar.openings.get(start=dt.time(22)).overnight is True
    days = {d.date.isoformat(): d.hours for d in calendar.special_days.all()}
    assert days == {"2026-12-24": [], "2026-12-31": [["09:00", "12:00", False]]}
    listing = client.get("/settings/hours/").content.decode()
    assert "Lyon office" in listing and "Calendar “Lyon office” saved" in listing
    # Editing shows what was saved.
    edit = client.get(f"/settings/hours/{calendar.public_id}/").content.decode()
    assert "2026-12-31 09:00-12:00 New Year&#x27;s Eve" in edit


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        (week(**{"open-0-1-start": "16:00", "open-0-1-end": "18:00"}), "overlaps another one"),
        (week(**{"open-1-0-start": "17:00", "open-1-0-end": "09:00"}), "closes before it opens"),
        ({}, "at least one opening interval"),
        (week(**{"open-2-0-start": "9h"}), "HH:MM"),
    ],
)
def test_a_wrong_week_is_explained_next_to_the_row_and_nothing_is_saved(world, posted, message):
    client = signed_in(world.admin)
    before = Calendar.objects.count()
    response = client.post(
        "/settings/hours/new", {"name": "Bad", "time_zone": "Europe/Paris", **posted}
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Calendar.objects.count() == before
    # What the admin typed is still there to correct.
    assert 'value="09:00"' in response.content.decode() or not posted


def test_an_unreadable_special_day_names_its_line(world):
    response = signed_in(world.admin).post(
        "/settings/hours/new",
        {
            "name": "X",
            "time_zone": "Europe/Paris",
            "special_days": "2026-12-24 closed\ntomorrow",
            **week(),
        },
    )
    assert response.status_code == 422
    assert "Line 2 cannot be read: tomorrow" in response.content.decode()


def test_teams_choose_their_calendar_on_the_list(world):
    client = signed_in(world.admin)
    client.post("/settings/hours/new", {"name": "Tokyo", "time_zone": "Asia/Tokyo", **week()})
    tokyo = Calendar.objects.get(name="Tokyo")
    response = client.post("/settings/hours/", {f"team-{world.support.public_id}": tokyo.public_id})
    assert response.status_code == 302
    world.support.refresh_from_db()
    world.billing.refresh_from_db()
    assert (world.support.calendar, world.billing.calendar) == (tokyo, None)


def test_an_admin_creates_and_edits_a_policy(world):
    client = signed_in(world.admin)
    assert client.get("/settings/sla/new").status_code == 200
    response = client.post(
        "/settings/sla/new",
        {
            "name": "VIP",
            "position": "5",
            "is_active": "on",
            "teams": [world.support.pk],
            "priorities": ["urgent", "high"],
            "tags": "vip, Gold",
            "first_response_value": "30",
            "first_response_unit": "minutes",
            "first_response_business": "on",
            "resolution_value": "2",
            "resolution_unit": "days",
            "next_response_unit": "hours",
            "pause_when_pending": "on",
            "warn_at_percent": "75",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = Policy.objects.get(name="VIP")
    assert (policy.first_response_seconds, policy.first_response_business) == (1800, True)
    assert (policy.resolution_seconds, policy.resolution_business) == (172800, False)
    assert policy.next_response_seconds is None
    assert policy.tags == ["gold", "vip"]
    assert (policy.pause_when_pending, policy.pause_when_on_hold) == (True, False)
    listing = client.get("/settings/sla/").content.decode()
    assert "30 minutes (business hours)" in listing and "2 days (calendar time)" in listing
    edit = client.get(f"/settings/sla/{policy.public_id}/").content.decode()
    assert 'value="30"' in edit


def test_a_policy_without_any_target_is_refused(world):
    response = signed_in(world.admin).post(
        "/settings/sla/new",
        {
            "name": "Empty",
            "position": "1",
            "warn_at_percent": "80",
            "first_response_unit": "hours",
            "next_response_unit": "hours",
            "resolution_unit": "hours",
        },
    )
    assert response.status_code == 422
    assert "Set at least one target." in response.content.decode()
    assert not Policy.objects.filter(name="Empty").exists()


def test_the_settings_speak_french_to_a_french_admin(world):
    client = signed_in(world.admin, "fr")
    hours = client.get("/settings/hours/").content.decode()
    assert "Heures ouvrées" in hours and "Ajouter un calendrier" in hours
    assert "Business hours" not in hours and "Add a calendar" not in hours
    form = client.get("/settings/hours/new").content.decode()
    assert "Lundi" in form and "Monday" not in form
    policies = client.get("/settings/sla/new").content.decode()
    assert "Première réponse" in policies and "First response" not in policies


def test_editing_a_calendar_keeps_every_interval_of_a_busy_day(world):
    client = signed_in(world.admin)
    four = {
        f"open-0-{slot}-{edge}": value
        for slot, (start, end) in enumerate(
            [("07:00", "08:00"), ("09:00", "10:00"), ("11:00", "12:00"), ("13:00", "14:00")]
        )
        for edge, value in (("start", start), ("end", end))
    }
    client.post("/settings/hours/new", {"name": "Busy", "time_zone": "UTC", **four})
    calendar = Calendar.objects.get(name="Busy")
    assert calendar.openings.count() == 4
    page = client.get(f"/settings/hours/{calendar.public_id}/").content.decode()
    assert 'name="open-0-3-start" value="13:00"' in page
    assert 'name="open-0-4-start" value=""' in page  # and room for one more
    # Saving the form as shown changes nothing.
    client.post(
        f"/settings/hours/{calendar.public_id}/", {"name": "Busy", "time_zone": "UTC", **four}
    )
    assert calendar.openings.count() == 4
