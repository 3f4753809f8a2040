import pytest

from quietdesk.errors import InvalidTransition
from quietdesk.tickets.states import ALLOWED_TRANSITIONS, Status, check_transition


def test_every_status_has_a_rule_and_closed_is_final():
    assert set(ALLOWED_TRANSITIONS) == set(Status)
    assert ALLOWED_TRANSITIONS[Status.CLOSED] == ()


@pytest.mark.parametrize(
    ("current", "requested"),
    [
        ("new", "open"),
        ("open", "pending"),
        ("pending", "on_hold"),
        ("on_hold", "solved"),
        ("solved", "closed"),
        ("solved", "open"),
    ],
)
def test_allowed_transitions_pass(current, requested):
    assert check_transition(current, requested) == Status(requested)


def test_an_invalid_transition_names_the_allowed_ones():
    with pytest.raises(InvalidTransition) as info:
        check_transition("new", "closed")
    assert info.value.allowed == ["open", "pending", "on_hold", "solved"]
    assert str(info.value) == (
        "A ticket cannot go from New to Closed. "
        "Allowed: Open, Waiting on customer, On hold, Solved."
    )


def test_an_unknown_status_is_an_invalid_transition():
    with pytest.raises(InvalidTransition) as info:
        check_transition("open", "exploded")
    assert info.value.requested == "exploded"
    assert "solved" in info.value.allowed


def test_nothing_leaves_closed():
    for status in Status:
        with pytest.raises(InvalidTransition):
            check_transition("closed", status.value)
