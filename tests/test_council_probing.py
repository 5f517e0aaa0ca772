"""The council-documents source's memory, without a server: the sweep beyond the highest number, the back-off and
languages of gaps, and the families whose next versions are asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watcher.sources.council.families import Family, Follow, parse_version, version_text
from watcher.sources.council.probing import GAP_INTERVAL_CAP, Gap, ProbeState

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LANGS = ("en", "fr", "de")


def test_the_cursor_round_trips_and_older_cursors_still_load():
    """The state survives JSON; a cursor written with ISO times and no round counts (the older form) loads."""
    state = ProbeState.from_cursor({}, "ST", 2026, start=10)
    assert state.highest == 9 and state.found(12, T0) == [10, 11]
    state.families.add(12, (), T0.timestamp(), "fr", close=True)
    state.edge_due(T0)
    again = ProbeState.from_cursor(state.to_cursor(), "ST", 2026, start=1)
    assert again.to_cursor() == state.to_cursor() and again.families.families[12].language == "fr"
    old = {
        "series": "ST",
        "year": 2026,
        "highest": 5,
        "next": 7,
        "gaps": {"3": ["2026-03-02T09:00:00+00:00", "2026-03-02T10:00:00+00:00"]},
    }
    loaded = ProbeState.from_cursor(old, "ST", 2026, start=1)
    assert loaded.gaps[3] == Gap(T0.timestamp(), T0.timestamp() + 3600, 1) and loaded.highest == 5
    assert ProbeState.from_cursor(old, "WK", 2026, start=4).highest == 3
    assert ProbeState.from_cursor(old, "ST", 2027, start=40).highest == 0  # a new year starts at 1


def test_the_sweep_asks_the_nearest_then_farther_numbers_in_turn():
    """Beyond where the scan stopped, the sweep's numbers are 1, 2, 3, 5, 8, ... further, within lookahead; the
    turns go on across runs and start over when a document is found."""
    state = ProbeState.from_cursor({"series": "ST", "year": 2026, "highest": 100}, "ST", 2026, start=1)
    assert state.sweep_number(105, 20, nearest=True) == 106
    turns = []
    for _ in range(6):
        turns.append(state.sweep_number(105, 20, skip_nearest=True))
        state.swept()
    assert turns == [107, 108, 110, 113, 118, 107]
    assert state.sweep_number(105, 20) == 106  # with one sweep a run, the nearest takes its turn too
    state.found(110, T0)
    assert state.sweep == 0 and state.sweep_number(115, 20, skip_nearest=True) == 117
    assert state.sweep_number(130, 20, nearest=True) is None


def test_a_gap_backs_off_and_tries_every_language_only_now_and_then():
    """Polled every 10 minutes for 60 days, a gap is asked for on the first polls, then less and less often, at
    least every two days; every language on its first round and every fourth, the first language otherwise."""
    gap = Gap(T0.timestamp())
    asked, langs = [], []
    for poll in range(60 * 144):
        now = T0.timestamp() + 600 * poll
        if gap.due(now):
            langs.append(gap.languages(LANGS))
            asked.append(now)
            gap.last, gap.rounds = now, gap.rounds + 1
    spacing = [b - a for a, b in zip(asked, asked[1:])]
    assert spacing[:4] == [600] * 4 and max(spacing) <= GAP_INTERVAL_CAP and max(spacing) >= GAP_INTERVAL_CAP - 600
    assert len(asked) < 80  # about 8,640 polls
    assert langs[0] == LANGS and langs[1] == ("en",) and langs[4] == LANGS
    assert sum(len(x) for x in langs) < 1.6 * len(asked)


def test_gaps_due_new_ones_first_and_old_ones_forgotten():
    """New gaps come first, then the least recently asked; a gap older than max_age is dropped."""
    state = ProbeState.from_cursor({"series": "ST", "year": 2026, "highest": 10}, "ST", 2026, start=1)
    state.gaps = {
        3: Gap(T0.timestamp() - 100 * 86400, T0.timestamp() - 86400, 5),
        4: Gap(T0.timestamp() - 86400, T0.timestamp() - 7200, 9),
        5: Gap(T0.timestamp() - 86400, T0.timestamp() - 3 * 86400 // 2, 3),
        6: Gap(T0.timestamp()),
    }
    assert state.due_gaps(T0, max_age=90 * 86400) == [6, 5]
    assert 3 not in state.gaps and 4 in state.gaps


def test_the_edge_is_asked_again_after_each_find():
    """The first numbers after the highest one are due at once when the highest changes, and back off while it
    does not."""
    state = ProbeState.from_cursor({"series": "ST", "year": 2026, "highest": 10}, "ST", 2026, start=1)
    assert state.edge_due(T0) == [11, 12]
    late = T0
    for minutes in range(10, 600, 10):
        late = T0 + timedelta(minutes=minutes)
        for number in state.edge_due(late):
            state.edge_asked(number, late)
    assert state.edge[11].rounds < 25
    state.found(11, late)
    assert state.edge_due(late) == [12, 13]


def test_a_family_asks_for_the_next_version_of_each_kind():
    """After INIT, REV 1 and ADD 1, the next ones are REV 2, ADD 2, COR 1 and the addendum's REV 1."""
    family = Family(T0.timestamp(), versions=[parse_version("REV 1"), parse_version("ADD 1")])
    assert [version_text(v) for v in family.candidates()] == ["REV 2", "ADD 2", "COR 1", "ADD 1 REV 1"]
    assert [version_text(v) for v in Family(0.0).candidates()] == ["REV 1", "ADD 1", "COR 1"]
    assert parse_version("INIT") == () and parse_version("ADD 1 REV 2") == (("ADD", 1), ("REV", 2))


def test_close_families_come_first_and_more_often_and_old_ones_are_dropped():
    """Polled every 10 minutes for 20 days, a closely followed family is asked for more often than another; when
    both are due the close one comes first; a family found longer ago than max_age is dropped; a new version
    starts a family's schedule over."""
    follow = Follow()
    start = T0.timestamp()
    follow.add(1, (), start, close=True)
    follow.add(2, (), start)
    counts = {1: 0, 2: 0}
    for poll in range(1, 20 * 144):
        now = start + 600 * poll
        due = follow.due(now, max_age=30 * 86400)
        if due[:1] == [1] and 2 in due:
            assert due.index(1) < due.index(2)
        for number in due:
            counts[number] += 1
            follow.asked(number, now)
    assert 2 * counts[2] < counts[1] < 80
    later = start + 40 * 86400
    follow.add(2, (("REV", 1),), later - 86400)
    assert follow.due(later, max_age=30 * 86400) == [2] and list(follow.families) == [2]
