"""The ISA-18.2 alarm life cycle as a table: (state, event) → next state.

Everything that changes an alarm's state goes through :func:`next_state`; a pair that is
not in the table is no change.

=========================  ===========  =============================
state                      event        next state
=========================  ===========  =============================
normal                     raise        unacknowledged (a new occurrence)
returned, unacknowledged   raise        unacknowledged (the same occurrence again)
unacknowledged             clear        returned to normal, unacknowledged
acknowledged               clear        normal
unacknowledged             acknowledge  acknowledged
returned, unacknowledged   acknowledge  normal
unacknowledged             shelve       shelved
acknowledged               shelve       shelved
returned, unacknowledged   shelve       shelved
shelved                    raise        shelved (its condition is present again)
shelved                    clear        shelved (its condition went; a one-shot shelve
                                        then unshelves at once, to normal)
shelved                    unshelve     unacknowledged (its condition is present)
shelved                    unshelve     normal (its condition is gone)
                           (cleared)
unacknowledged             clear        returned to normal, unacknowledged
                           (latched)
acknowledged               clear        returned to normal, unacknowledged: a latched
                           (latched)    alarm waits for the operator to acknowledge
                                        (reset) its return
unacknowledged,             suppress     suppressed (its rule's ``suppressed_when`` holds;
acknowledged, shelved                   a shelved alarm only while its condition is
                                        present)
suppressed                 raise        suppressed (its condition is present again)
suppressed                 clear        normal (a suppressed alarm that clears is done)
suppressed                 unsuppress   unacknowledged (``suppressed_when`` no longer
                                        holds and the condition is present)
suppressed                 unsuppress   normal
                           (cleared)
any but out of service     remove from  out of service (a supervisor's doing)
                           service
out of service             raise/clear  out of service (the condition is tracked)
out of service             return to    unacknowledged (condition present) or normal
                           service
=========================  ===========  =============================
"""

from __future__ import annotations

import enum

from services.model import AlarmState


class AlarmEvent(enum.StrEnum):
    """What can happen to an alarm."""

    RAISE = "raise"
    """Its condition came (after the rule's on-delay)."""
    CLEAR = "clear"
    """Its condition went (after the rule's off-delay), or the alert was cancelled or expired."""
    ACKNOWLEDGE = "acknowledge"
    """An operator acknowledged it."""
    SHELVE = "shelve"
    """An operator shelved it (for a time, or until it clears)."""
    UNSHELVE = "unshelve"
    """Its shelving ended (an operator, its time, or its clearing) while the condition is
    present."""
    UNSHELVE_CLEARED = "unshelve_cleared"
    """Its shelving ended while the condition is gone."""
    CLEAR_LATCHED = "clear_latched"
    """The condition of an alarm whose rule latches went."""
    SUPPRESS = "suppress"
    """Its rule's ``suppressed_when`` began to hold while the condition is present."""
    UNSUPPRESS = "unsuppress"
    """``suppressed_when`` stopped holding while the condition is present."""
    UNSUPPRESS_CLEARED = "unsuppress_cleared"
    """``suppressed_when`` stopped holding while the condition is gone."""
    REMOVE_FROM_SERVICE = "remove_from_service"
    """A supervisor took it out of service."""
    RETURN_TO_SERVICE = "return_to_service"
    """A supervisor put it back in service while the condition is present."""
    RETURN_TO_SERVICE_CLEARED = "return_to_service_cleared"
    """A supervisor put it back in service while the condition is gone."""


TRANSITIONS: dict[tuple[AlarmState, AlarmEvent], AlarmState] = {
    (AlarmState.NORMAL, AlarmEvent.RAISE): AlarmState.UNACKNOWLEDGED,
    (AlarmState.RTN_UNACKNOWLEDGED, AlarmEvent.RAISE): AlarmState.UNACKNOWLEDGED,
    (AlarmState.UNACKNOWLEDGED, AlarmEvent.CLEAR): AlarmState.RTN_UNACKNOWLEDGED,
    (AlarmState.ACKNOWLEDGED, AlarmEvent.CLEAR): AlarmState.NORMAL,
    (AlarmState.UNACKNOWLEDGED, AlarmEvent.ACKNOWLEDGE): AlarmState.ACKNOWLEDGED,
    (AlarmState.RTN_UNACKNOWLEDGED, AlarmEvent.ACKNOWLEDGE): AlarmState.NORMAL,
    (AlarmState.UNACKNOWLEDGED, AlarmEvent.SHELVE): AlarmState.SHELVED,
    (AlarmState.ACKNOWLEDGED, AlarmEvent.SHELVE): AlarmState.SHELVED,
    (AlarmState.RTN_UNACKNOWLEDGED, AlarmEvent.SHELVE): AlarmState.SHELVED,
    (AlarmState.SHELVED, AlarmEvent.RAISE): AlarmState.SHELVED,
    (AlarmState.SHELVED, AlarmEvent.CLEAR): AlarmState.SHELVED,
    (AlarmState.SHELVED, AlarmEvent.UNSHELVE): AlarmState.UNACKNOWLEDGED,
    (AlarmState.SHELVED, AlarmEvent.UNSHELVE_CLEARED): AlarmState.NORMAL,
    (AlarmState.UNACKNOWLEDGED, AlarmEvent.CLEAR_LATCHED): AlarmState.RTN_UNACKNOWLEDGED,
    (AlarmState.ACKNOWLEDGED, AlarmEvent.CLEAR_LATCHED): AlarmState.RTN_UNACKNOWLEDGED,
    (AlarmState.SHELVED, AlarmEvent.CLEAR_LATCHED): AlarmState.SHELVED,
    (AlarmState.SUPPRESSED, AlarmEvent.RAISE): AlarmState.SUPPRESSED,
    (AlarmState.SUPPRESSED, AlarmEvent.CLEAR): AlarmState.NORMAL,
    (AlarmState.SUPPRESSED, AlarmEvent.CLEAR_LATCHED): AlarmState.NORMAL,
    (AlarmState.SUPPRESSED, AlarmEvent.UNSUPPRESS): AlarmState.UNACKNOWLEDGED,
    (AlarmState.SUPPRESSED, AlarmEvent.UNSUPPRESS_CLEARED): AlarmState.NORMAL,
    (AlarmState.OUT_OF_SERVICE, AlarmEvent.RAISE): AlarmState.OUT_OF_SERVICE,
    (AlarmState.OUT_OF_SERVICE, AlarmEvent.CLEAR): AlarmState.OUT_OF_SERVICE,
    (AlarmState.OUT_OF_SERVICE, AlarmEvent.CLEAR_LATCHED): AlarmState.OUT_OF_SERVICE,
    (AlarmState.OUT_OF_SERVICE, AlarmEvent.RETURN_TO_SERVICE): AlarmState.UNACKNOWLEDGED,
    (AlarmState.OUT_OF_SERVICE, AlarmEvent.RETURN_TO_SERVICE_CLEARED): AlarmState.NORMAL,
    **{
        (state, AlarmEvent.SUPPRESS): AlarmState.SUPPRESSED
        for state in (AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED, AlarmState.SHELVED)
    },
    **{
        (state, AlarmEvent.REMOVE_FROM_SERVICE): AlarmState.OUT_OF_SERVICE
        for state in AlarmState
        if state is not AlarmState.OUT_OF_SERVICE
    },
}


def next_state(state: AlarmState, event: AlarmEvent) -> AlarmState | None:
    """The state after ``event`` in ``state``, or None when the event changes nothing."""
    return TRANSITIONS.get((state, event))
