"""The incident picker shown when several incidents are open, and how the live command uses it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from analysis.model import Incident, IncidentStatus
from tui.live import PickerCancelled, pick_incident
from tui.screens.picker import IncidentPickerApp

NOW = datetime.now(timezone.utc)
INCIDENTS = [
    Incident("Q2NEWEST", 1002, "OOMKilled: worker", "ads-demo-service", "high", IncidentStatus.TRIGGERED, NOW),
    Incident("Q1OLDER", 1001, "Latency high", "ads-demo-service", "low", IncidentStatus.ACKNOWLEDGED,
             NOW - timedelta(hours=2)),
]


class OpenIncidents:
    """An incident source that only lists (pick_incident needs nothing else)."""

    async def open_incidents(self) -> list[Incident]:
        return list(INCIDENTS)

    async def incident(self, incident_id: str) -> Incident:
        return next(i for i in INCIDENTS if i.id == incident_id)


async def test_picker_lists_incidents_in_words_and_returns_the_chosen_id() -> None:
    app = IncidentPickerApp(list(INCIDENTS))
    async with app.run_test(size=(100, 20)) as pilot:
        # THEN both incidents are listed with their status in words
        text = "\n".join(str(app.query_one("OptionList").get_option_at_index(i).prompt) for i in range(2))
        assert "#1002 !! TRIGGERED | high" in text and "#1001 ok ACKNOWLEDGED | low" in text
        # WHEN the second is chosen with the keyboard
        await pilot.press("down", "enter")
    # THEN the app returns its ID
    assert app.return_value == "Q1OLDER"


async def test_quitting_the_picker_returns_nothing() -> None:
    app = IncidentPickerApp(list(INCIDENTS))
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.press("escape")
    assert app.return_value is None


async def test_pick_incident_asks_only_when_several_are_open() -> None:
    asked: list[int] = []

    async def choose(incidents):
        asked.append(len(incidents))
        return "Q1OLDER"

    # WHEN several are open and a chooser is given THEN it is asked and its choice returned
    assert (await pick_incident(OpenIncidents(), None, choose)).id == "Q1OLDER"
    assert asked == [2]
    # WHEN an ID is given THEN nobody is asked
    assert (await pick_incident(OpenIncidents(), "Q2NEWEST", choose)).number == 1002
    assert asked == [2]

    # WHEN the user quits the picker THEN that is a cancellation, not an error
    async def quit_picker(incidents):
        return None

    with pytest.raises(PickerCancelled):
        await pick_incident(OpenIncidents(), None, quit_picker)
