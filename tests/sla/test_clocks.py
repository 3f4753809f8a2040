"""SLA clocks driven by what happens to tickets, with the time under the test's control."""

from __future__ import annotations

import datetime as dt

import pytest

from quietdesk.audit.models import AuditEvent
from quietdesk.errors import ValidationFailed
from quietdesk.notifications.models import Notification
from quietdesk.schedule import services as schedule
from quietdesk.schedule.models import Calendar
from quietdesk.sla import recompute
from quietdesk.sla import services as sla
from quietdesk.sla.models import Clock, ClockKind, ClockState
from quietdesk.sla.promise import promise_for
from quietdesk.tickets import services
from tests.conftest import api_client, paris

pytestmark = pytest.mark.django_db


def policy(world, name="Standard", **targets):
    defaults = {
        "first_response": (4 * 3600, True),
        "next_response": (2 * 3600, True),
        "resolution": (8 * 3600, True),
    }
    defaults.update(targets)
    return sla.save_policy(actor=world.admin, data=sla.PolicyIn(name=name, targets=defaults))


def urgent_policy(world):
    """Urgent tickets: a first response within one business hour, nothing else."""
    return sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(
            name="Urgent",
            position=1,
            priorities=["urgent"],
            targets={"first_response": (3600, True)},
        ),
    )


def open_ticket(world, when: dt.datetime, **kwargs):
    """A customer's mail, opened by Support's agent for them."""
    kwargs.setdefault("team", world.support)
    return services.create_ticket(
        actor=world.agent,
        requester=world.customer,
        subject="Help",
        body="It broke.",
        channel="email",
        created_at=when,
        **kwargs,
    )


def clocks_of(ticket) -> dict[str, Clock]:
    return {c.kind: c for c in Clock.objects.filter(ticket=ticket).order_by("started_at", "id")}


def test_a_new_ticket_gets_its_policy_with_the_reason_and_due_times_in_business_hours(
    world, office, clock
):
    policy(world, "Everyone")
    urgent = sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(
            name="Urgent support",
            position=1,
            teams=[world.support],
            priorities=["urgent"],
            targets={"first_response": (3600, True)},
        ),
    )
    friday = clock.set(2026, 11, 27, 16)
    ticket = open_ticket(world, friday)
    assert ticket.sla_policy.name == "Everyone"
    assert "applies to every ticket" in ticket.sla_reason
    found = clocks_of(ticket)
    # 4 business hours from Friday 16:00: one on Friday, three on Monday morning.
    assert found[ClockKind.FIRST_RESPONSE].due_at == paris(2026, 11, 30, 12)
    assert found[ClockKind.FIRST_RESPONSE].warn_at == paris(2026, 11, 30, 11, 12)  # 80 %
    assert found[ClockKind.RESOLUTION].due_at == paris(2026, 11, 30, 17)  # 1 h + 7 h
    rushed = open_ticket(world, friday, priority="urgent")
    assert rushed.sla_policy == urgent
    assert "team Support" in rushed.sla_reason and "priority urgent" in rushed.sla_reason
    assert clocks_of(rushed)[ClockKind.FIRST_RESPONSE].due_at == paris(2026, 11, 27, 17)


def test_the_first_public_reply_meets_the_first_response_and_a_note_does_not(world, office, clock):
    policy(world)
    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))
    clock.set(2026, 11, 23, 10)
    services.post_message(ticket=ticket, author=world.agent, body="Looking", kind="note", via="web")
    assert clocks_of(ticket)[ClockKind.FIRST_RESPONSE].state == ClockState.RUNNING
    clock.set(2026, 11, 23, 11)
    services.post_message(ticket=ticket, author=world.agent, body="Fixed?", via="web")
    first = clocks_of(ticket)[ClockKind.FIRST_RESPONSE]
    assert (first.state, first.stopped_at) == (ClockState.MET, paris(2026, 11, 23, 11))
    # The customer answers: the next response is timed from their message.
    services.post_message(
        ticket=ticket,
        author=world.customer,
        body="No",
        via="portal",
        created_at=clock.set(2026, 11, 23, 16, 30),
    )
    nxt = clocks_of(ticket)[ClockKind.NEXT_RESPONSE]
    assert nxt.state == ClockState.RUNNING
    assert nxt.due_at == paris(2026, 11, 24, 10, 30)  # 30 min today, 1 h 30 tomorrow
    # A second customer message does not restart the wait.
    services.post_message(
        ticket=ticket,
        author=world.customer,
        body="Hello?",
        via="portal",
        created_at=clock.set(2026, 11, 24, 9),
    )
    assert Clock.objects.filter(ticket=ticket, kind=ClockKind.NEXT_RESPONSE).count() == 1
    # Answering late misses it, and says so.
    services.post_message(
        ticket=ticket,
        author=world.agent,
        body="Sorry",
        via="web",
        created_at=clock.set(2026, 11, 24, 11),
    )
    nxt.refresh_from_db()
    assert nxt.state == ClockState.MISSED
    assert nxt.breached_at == paris(2026, 11, 24, 10, 30)


def test_waiting_on_the_customer_over_a_weekend_pauses_the_clock(world, office, clock):
    policy(world)
    ticket = open_ticket(world, clock.set(2026, 11, 27, 16))  # Friday
    clock.set(2026, 11, 27, 16, 30)
    services.post_message(ticket=ticket, author=world.agent, body="Which version?", via="web")
    services.change_status(ticket=ticket, actor=world.agent, status="pending")
    resolution = clocks_of(ticket)[ClockKind.RESOLUTION]
    assert resolution.state == ClockState.PAUSED
    assert resolution.due_at is None
    assert resolution.consumed_us == 30 * 60 * 10**6
    # The customer answers on Monday at 10:00: the ticket reopens and the clock resumes
    # with 7 h 30 left: 2 h before lunch, 4 h after, 1 h 30 on Tuesday.
    services.post_message(
        ticket=ticket,
        author=world.customer,
        body="2.4",
        via="portal",
        created_at=clock.set(2026, 11, 30, 10),
    )
    resolution.refresh_from_db()
    assert resolution.state == ClockState.RUNNING
    assert resolution.due_at == paris(2026, 12, 1, 10, 30)
    verbs = list(
        AuditEvent.objects.filter(ticket=ticket, verb__startswith="sla.").values_list(
            "verb", flat=True
        )
    )
    assert "sla.clock_paused" in verbs and "sla.clock_resumed" in verbs
    # Solving ends it (met); reopening resumes the same resolution clock.
    services.change_status(ticket=ticket, actor=world.agent, status="solved")
    resolution.refresh_from_db()
    assert resolution.state == ClockState.MET


def test_a_policy_can_keep_counting_while_on_hold(world, office, clock):
    sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(
            name="Strict", pause_when_on_hold=False, targets={"resolution": (8 * 3600, True)}
        ),
    )
    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))
    services.change_status(ticket=ticket, actor=world.agent, status="open")
    services.change_status(ticket=ticket, actor=world.agent, status="on_hold")
    assert clocks_of(ticket)[ClockKind.RESOLUTION].state == ClockState.RUNNING
    services.change_status(ticket=ticket, actor=world.agent, status="pending")
    assert clocks_of(ticket)[ClockKind.RESOLUTION].state == ClockState.PAUSED


def test_changing_the_priority_rematches_the_policy_and_retargets_running_clocks(
    world, office, clock
):
    policy(world, "Everyone")
    urgent_policy(world)
    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))
    clock.set(2026, 11, 23, 9, 30)
    services.set_priority(ticket=ticket, actor=world.agent, priority="urgent")
    ticket.refresh_from_db()
    assert ticket.sla_policy.name == "Urgent"
    found = clocks_of(ticket)
    assert found[ClockKind.FIRST_RESPONSE].due_at == paris(2026, 11, 23, 10)
    # "Urgent" has no resolution target: that clock is cancelled, not missed.
    assert found[ClockKind.RESOLUTION].state == ClockState.CANCELLED


def test_changing_a_calendar_recomputes_open_tickets_in_bulk(
    world, office, clock, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    policy(world)
    tickets = [open_ticket(world, clock.set(2026, 11, 23, 9)) for _ in range(40)]
    solved = tickets.pop()
    services.change_status(ticket=solved, actor=world.agent, status="solved")
    # Lunch moves to 13:00–14:00: every running clock moves, in a handful of queries.
    data = schedule.CalendarIn(
        name="Paris office",
        time_zone="Europe/Paris",
        holiday_country="FR",
        openings=schedule.openings_from(
            [
                (day, s, e, False)
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
                for s, e in (("09:00", "13:00"), ("14:00", "17:00"))
            ]
        ),
    )
    with django_capture_on_commit_callbacks() as after_commit:
        office = schedule.save_calendar(actor=world.admin, data=data, calendar=office)
    assert Clock.objects.filter(due_at=paris(2026, 11, 23, 13)).count() == 0  # not yet
    with django_assert_max_num_queries(12):
        for callback in after_commit:
            callback()  # the background task (run at once by the test task backend)
    first = Clock.objects.filter(ticket__in=tickets, kind=ClockKind.FIRST_RESPONSE)
    assert set(first.values_list("due_at", flat=True)) == {paris(2026, 11, 23, 13)}
    resolution = Clock.objects.filter(ticket__in=tickets, kind=ClockKind.RESOLUTION)
    assert set(resolution.values_list("due_at", flat=True)) == {paris(2026, 11, 24, 10)}
    assert Clock.objects.get(ticket=solved, kind=ClockKind.RESOLUTION).state == ClockState.MET


def test_the_sweep_warns_then_marks_breaches_once_and_notifies(
    world, office, clock, django_capture_on_commit_callbacks
):
    policy(world, resolution=(None, True))
    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))
    services.assign(ticket=ticket, actor=world.agent, assignee=world.agent)
    unassigned = open_ticket(world, clock.now)
    with django_capture_on_commit_callbacks(execute=True):
        assert recompute.sweep(paris(2026, 11, 23, 11)) == {"warned": 0, "breached": 0}
        assert recompute.sweep(paris(2026, 11, 23, 13, 30)) == {"warned": 2, "breached": 0}
        assert recompute.sweep(paris(2026, 11, 23, 14, 1)) == {"warned": 0, "breached": 2}
        assert recompute.sweep(paris(2026, 11, 23, 14, 2)) == {"warned": 0, "breached": 0}
    first = clocks_of(ticket)[ClockKind.FIRST_RESPONSE]
    assert first.breached_at == paris(2026, 11, 23, 14)
    mine = Notification.objects.filter(recipient=world.agent, ticket=ticket)
    assert sorted(mine.values_list("verb", "urgent")) == [
        ("sla.clock_breached", True),
        ("sla.clock_warning", False),
    ]
    # Nobody is assigned the other ticket: Support's members hear about it.
    assert Notification.objects.filter(ticket=unassigned, recipient=world.agent).count() == 2
    assert not Notification.objects.filter(recipient=world.other_agent).exists()


def test_the_promise_is_told_in_the_readers_language_and_time_zone(world, office, clock):
    policy(world)
    ticket = open_ticket(world, clock.set(2026, 11, 23, 14))  # due Tuesday 10:00 in Paris
    waiting = sla.expected_response(list(Clock.objects.filter(ticket=ticket)))
    french = promise_for(waiting, zone="Europe/Paris", language="fr", now=clock.now)
    assert french.text == (
        "Nous vous répondrons d’ici le mardi 24 novembre 2026 à 10:00 (heure de Paris)."
    )
    english = promise_for(waiting, zone="America/New_York", language="en", now=clock.now)
    assert english.text.replace("\u202f", " ") == (
        "We will answer by Tuesday, November 24, 2026, 4:00 AM (Eastern Time)."
    )
    late = promise_for(waiting, zone="Europe/Paris", language="en", now=paris(2026, 11, 25, 9))
    assert late.overdue and "late" in late.text


def test_the_api_shows_each_clock_and_the_promise(world, office, clock):
    policy(world)
    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))
    staff = api_client(world.agent).get(f"/api/v1/tickets/{ticket.public_id}").json()
    assert staff["expected_response_at"] == "2026-11-23T13:00:00Z"  # 14:00 in Paris
    kinds = {c["kind"]: c for c in staff["sla"]["clocks"]}
    assert kinds["first_response"]["due_at"] == "2026-11-23T13:00:00Z"
    assert (kinds["first_response"]["paused"], kinds["first_response"]["breached"]) == (
        False,
        False,
    )
    assert staff["sla"]["policy"]["name"] == "Standard"
    customer = api_client(world.customer).get(f"/api/v1/tickets/{ticket.public_id}").json()
    assert customer["expected_response_at"] == "2026-11-23T13:00:00Z"
    assert customer["sla"] is None  # policies and breaches are the team's business
    clock.set(2026, 11, 23, 15)
    late = api_client(world.agent).get(f"/api/v1/tickets/{ticket.public_id}").json()
    assert late["response_overdue"] is True
    assert {c["kind"]: c for c in late["sla"]["clocks"]}["first_response"]["breached"] is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Europe/Pariss"}, "time_zone"),
        (
            {
                "openings": [
                    ("monday", "09:00", "12:00", False),
                    ("monday", "11:00", "14:00", False),
                ]
            },
            "openings[1].start",
        ),
        ({"openings": [("monday", "17:00", "09:00", False)]}, "openings[0].end"),
        ({"openings": []}, "openings"),
        (
            {"openings": [("sunday", "22:00", "10:00", True), ("monday", "09:00", "12:00", False)]},
            "openings[1].start",
        ),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_country": "FR", "holiday_subdivision": "Nowhere"}, "holiday_subdivision"),
    ],
)
def test_a_bad_calendar_names_the_field_and_saves_nothing(world, change, field):
    values = {
        "name": "Bad",
        "time_zone": "Europe/Paris",
        "openings": [("monday", "09:00", "17:00", False)],
    }
    values.update(change)
    values["openings"] = schedule.openings_from(values["openings"])
    before = (Calendar.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as refused:
        schedule.save_calendar(actor=world.admin, data=schedule.CalendarIn(**values))
    assert field in refused.value.fields
    assert (Calendar.objects.count(), AuditEvent.objects.count()) == before


def test_the_calendar_api_answers_bad_input_with_field_level_errors(world):
    client = api_client(world.admin)
    response = client.post(
        "/api/v1/calendars",
        data={
            "name": "Night",
            "time_zone": "Mars/Olympus",
            "openings": [{"weekday": "monday", "start": "18:00", "end": "08:00"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["details"]}
    assert {"time_zone", "openings[0].end"} <= fields
    good = client.post(
        "/api/v1/calendars",
        data={
            "name": "Night",
            "time_zone": "Europe/Paris",
            "holiday_country": "FR",
            "openings": [
                {"weekday": "monday", "start": "18:00", "end": "08:00", "overnight": True}
            ],
            "special_days": [{"date": "2026-12-24", "name": "Christmas Eve"}],
        },
        content_type="application/json",
    )
    assert good.status_code == 201, good.content
    assert good.json()["openings"][0]["overnight"] is True
    assert good.json()["special_days"][0]["hours"] == []


def test_reports_count_attainment_and_response_times(world, office, clock):
    policy(world)
    met = open_ticket(world, clock.set(2026, 11, 23, 9))
    services.post_message(
        ticket=met, author=world.agent, body="Hi", via="web", created_at=clock.set(2026, 11, 23, 10)
    )
    missed = open_ticket(world, clock.set(2026, 11, 23, 9))
    services.post_message(
        ticket=missed,
        author=world.agent,
        body="Hi",
        via="web",
        created_at=clock.set(2026, 11, 24, 10),
    )
    client = api_client(world.admin)
    report = client.get("/api/v1/reports/sla?start=2026-11-01&end=2026-11-30").json()
    support = next(g for g in report["groups"] if g["name"] == "Support")
    first = next(c for c in support["clocks"] if c["kind"] == "first_response")
    assert (first["met"], first["missed"], first["rate"]) == (1, 1, 0.5)
    times = client.get("/api/v1/reports/response-times?start=2026-11-01&end=2026-11-30").json()
    support = next(g for g in times["groups"] if g["name"] == "Support")
    assert support["first_response_calendar"]["count"] == 2
    # 1 h and 25 h of wall time; 1 h and 8 business hours (all of Monday, then 9–10).
    assert support["first_response_business"]["median_seconds"] == 4.5 * 3600
    assert support["first_response_calendar"]["median_seconds"] == 13 * 3600
    bad = client.get("/api/v1/reports/sla?start=2026-11-30&end=2026-11-01")
    assert bad.status_code == 422
    assert bad.json()["details"][0]["field"] == "end"


# --- Regressions found in review ------------------------------------------------------------


def test_coming_back_to_a_policy_brings_back_its_clocks(world, office, clock):
    policy(world, "Everyone")
    urgent_policy(world)
    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))
    services.set_priority(ticket=ticket, actor=world.agent, priority="urgent")
    services.set_priority(ticket=ticket, actor=world.agent, priority="normal")
    running = Clock.objects.filter(ticket=ticket, kind=ClockKind.RESOLUTION, state="running")
    assert running.count() == 1


def test_a_clock_overdue_when_paused_ends_missed(world, office, clock):
    sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(name="Tight", targets={"resolution": (3600, False)}),
    )
    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))
    clock.set(2026, 11, 23, 11)  # an hour late, and the sweep has not run
    services.change_status(ticket=ticket, actor=world.agent, status="pending")
    services.change_status(ticket=ticket, actor=world.agent, status="solved")
    resolution = clocks_of(ticket)[ClockKind.RESOLUTION]
    assert resolution.state == ClockState.MISSED
    assert resolution.breached_at == paris(2026, 11, 23, 10)


def test_a_ticket_solved_without_a_reply_and_reopened_waits_for_a_first_response(
    world, office, clock
):
    policy(world)
    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))
    services.change_status(ticket=ticket, actor=world.agent, status="solved")
    services.post_message(
        ticket=ticket,
        author=world.customer,
        body="Still broken",
        via="portal",
        created_at=clock.set(2026, 11, 23, 10),
    )
    waiting = sla.expected_response(list(Clock.objects.filter(ticket=ticket)))
    assert waiting is not None and waiting.kind == ClockKind.FIRST_RESPONSE
    assert waiting.due_at == paris(2026, 11, 23, 15)  # 2 h before lunch, 2 h after


def test_removing_the_team_moves_due_times_to_the_default_calendar(world, office, clock):
    policy(world)
    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))
    services.assign(ticket=ticket, actor=world.admin, team=None)
    first = clocks_of(ticket)[ClockKind.FIRST_RESPONSE]
    default = schedule.business_hours(schedule.default_calendar())
    assert first.due_at == default.add(paris(2026, 11, 23, 9), dt.timedelta(hours=4))


def test_a_recompute_does_not_overwrite_a_clock_paused_meanwhile(world, office, clock, monkeypatch):
    policy(world)
    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))
    target = clocks_of(ticket)[ClockKind.FIRST_RESPONSE]
    Clock.objects.update(due_at=None)  # stale, as after a calendar change
    real = recompute.due_and_warning
    calls = []

    def pause_meanwhile(**kwargs):
        if not calls:  # the ticket waits on the customer while the task runs
            Clock.objects.filter(pk=target.pk).update(
                state=ClockState.PAUSED, running_since=None, consumed_us=3600 * 10**6
            )
        calls.append(1)
        return real(**kwargs)

    monkeypatch.setattr(recompute, "due_and_warning", pause_meanwhile)
    recompute.recompute(recompute.running_clocks())
    target.refresh_from_db()
    assert (target.state, target.due_at) == (ClockState.PAUSED, None)


def test_the_response_times_report_reads_calendars_once(
    world, office, clock, django_assert_max_num_queries
):
    policy(world)
    for _n in range(12):
        open_ticket(world, clock.set(2026, 11, 23, 9), team=None)
    client = api_client(world.admin)
    with django_assert_max_num_queries(8):
        report = client.get("/api/v1/reports/response-times?start=2026-11-01&end=2026-11-30")
    assert report.status_code == 200


@pytest.mark.parametrize(
    "period", ["start=9999-12-30&end=9999-12-31", "start=0001-01-01&end=0001-01-02"]
)
def test_report_dates_at_the_edge_of_the_calendar_get_a_clear_error(world, period):
    response = api_client(world.admin).get(f"/api/v1/reports/sla?{period}")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "end"


def test_the_ticket_carries_its_next_due_time_through_replies_pauses_and_calendar_changes(
    world, office, clock, django_capture_on_commit_callbacks
):
    """Inboxes sort on Ticket.due_at: it must always be the earliest running clock's due."""
    policy(world)

    def due(ticket):
        ticket.refresh_from_db()
        return ticket.due_at

    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))  # Monday
    assert due(ticket) == paris(2026, 11, 23, 14)  # first response: 4 business hours
    clock.set(2026, 11, 23, 10)
    services.post_message(ticket=ticket, author=world.agent, body="On it.", via="web")
    # Only the resolution is left: 8 business hours from 09:00 end on Tuesday at 10:00.
    assert due(ticket) == paris(2026, 11, 24, 10)
    services.change_status(ticket=ticket, actor=world.agent, status="pending")
    assert due(ticket) is None  # paused while waiting on the customer
    services.post_message(
        ticket=ticket,
        author=world.customer,
        body="Here.",
        via="portal",
        created_at=clock.set(2026, 11, 23, 11),
    )
    # Reopened: the next response (2 h → 14:00) comes before the resolution (Tuesday).
    assert due(ticket) == paris(2026, 11, 23, 14)
    data = schedule.CalendarIn(
        name="Paris office",
        time_zone="Europe/Paris",
        holiday_country="FR",
        openings=schedule.openings_from(
            [
                (day, "09:00", "17:00", False)
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
            ]
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        schedule.save_calendar(actor=world.admin, data=data, calendar=office)
    assert due(ticket) == paris(2026, 11, 23, 13)  # no lunch break any more
    services.change_status(ticket=ticket, actor=world.agent, status="solved")
    assert due(ticket) is None


def test_removing_a_target_or_a_policy_clears_the_tickets_due_times(
    world, office, clock, django_capture_on_commit_callbacks
):
    first = policy(world, "Everyone")
    ticket = open_ticket(world, clock.set(2026, 11, 23, 9))
    ticket.refresh_from_db()
    assert ticket.due_at == paris(2026, 11, 23, 14)
    with django_capture_on_commit_callbacks(execute=True):
        sla.save_policy(
            actor=world.admin,
            data=sla.PolicyIn(name="Everyone", targets={"resolution": (8 * 3600, True)}),
            policy=first,
        )
    ticket.refresh_from_db()
    assert ticket.due_at == paris(2026, 11, 24, 10)  # only the resolution is left
    with django_capture_on_commit_callbacks(execute=True):
        sla.delete_policy(actor=world.admin, policy=first)
    ticket.refresh_from_db()
    assert ticket.due_at is None
