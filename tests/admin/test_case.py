"""The fold of case events into the case state, without a server: any order, conflicts, reuse."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from admin.case import empty_state, fold
from admin.case_events import HistoryItem

# -- the fold, without a server ---------------------------------------------------


def event(eid, clock, kind, data, parents=(), author="A"):
    return {
        "v": 1,
        "id": eid,
        "report_id": "r",
        "author": author,
        "author_name": author,
        "day": "2026-11-28",
        "clock": clock,
        "parents": list(parents),
        "type": kind,
        "data": data,
    }


def item(ev, status="verified"):
    return HistoryItem(
        blob_id=f"b{ev['id'][:8]}", status=status, author_name=ev["author"], event=ev
    )


def hexid(n):
    return f"{n:032x}"


SAMPLE = [
    event(hexid(1), 1, "set_priority", {"priority": "normal"}),
    event(hexid(2), 2, "set_qualification", {"violation": True}, [hexid(1)]),
    event(hexid(3), 2, "set_priority", {"priority": "high"}, [hexid(1)], author="B"),
    event(
        hexid(4),
        3,
        "add_act",
        {
            "violation_type": "physical_violence",
            "perpetrator_type": "police",
            "state_role": "perpetrator",
        },
        [hexid(2), hexid(3)],
    ),
    event(
        hexid(5),
        3,
        "add_response",
        {"type": "primary_legal_aid", "mode": "direct", "day": "2026-11-28"},
        [hexid(2)],
        author="B",
    ),
    event(
        hexid(6),
        4,
        "add_complaint",
        {"institution": "Ombudsman", "day": "2026-11-28"},
        [hexid(4), hexid(5)],
    ),
    event(
        hexid(7),
        5,
        "set_complaint_reply",
        {"complaint": hexid(6), "reply": "refused"},
        [hexid(6)],
        author="B",
    ),
    event(hexid(8), 5, "set_outcome", {"resolution": "ongoing", "closed_day": None}, [hexid(6)]),
    event(
        hexid(9),
        6,
        "add_consent",
        {"action": "share_with_lawyer", "agreed": True, "day": "2026-11-28"},
        [hexid(7), hexid(8)],
    ),
    event(hexid(10), 6, "set_priority", {"priority": "urgent"}, [hexid(7), hexid(8)], author="B"),
    event(hexid(11), 6, "set_priority", {"priority": "low"}, [hexid(7), hexid(8)]),
    event(
        hexid(12),
        7,
        "custody",
        {"action": "export", "blob_id": "abc", "sha256": "0" * 64},
        [hexid(9), hexid(10), hexid(11)],
    ),
]


@settings(max_examples=200, deadline=None)
@given(st.permutations(SAMPLE + SAMPLE[:3]), st.data())
def test_fold_gives_the_same_state_for_any_order(events, data):
    expected = fold([item(e) for e in SAMPLE]).state
    rejected = item(event(hexid(99), 9, "set_priority", {"priority": "low"}), status="rejected")
    items = [item(e) for e in events]
    items.insert(data.draw(st.integers(0, len(items))), rejected)
    state = fold(items).state
    assert {k: v for k, v in state.items() if k != "rejected"} == {
        k: v for k, v in expected.items() if k != "rejected"
    }
    assert len(state["rejected"]) == 1


def test_fold_applies_each_kind():
    state = fold([item(e) for e in SAMPLE]).state
    assert state["qualification"] == {"violation": True, "by": "A"}
    assert state["acts"] == [
        {
            "violation_type": "physical_violence",
            "perpetrator_type": "police",
            "state_role": "perpetrator",
        }
    ]
    assert state["responses"] == [
        {"type": "primary_legal_aid", "mode": "direct", "day": "2026-11-28", "by": "B"}
    ]
    assert state["complaints"] == [
        {"institution": "Ombudsman", "day": "2026-11-28", "reply": "refused"}
    ]
    assert state["outcome"] == {"resolution": "ongoing", "closed_day": None}
    assert state["consent"] == [
        {"action": "share_with_lawyer", "agreed": True, "day": "2026-11-28"}
    ]
    # (6, hexid(11)) wins over (6, hexid(10)); neither saw the other: a conflict.
    assert state["priority"] == "low"
    (conflict,) = state["conflicts"]
    assert conflict["field"] == "priority"
    assert conflict["kept"]["value"] == {"priority": "low"} and conflict["kept"]["by"] == "A"
    assert [c["value"] for c in conflict["concurrent"]] == [{"priority": "urgent"}]


def test_an_edit_that_saw_both_values_resolves_the_conflict():
    later = event(hexid(13), 8, "set_priority", {"priority": "high"}, [hexid(12)])
    state = fold([item(e) for e in [*SAMPLE, later]]).state
    assert state["priority"] == "high"
    assert state["conflicts"] == []


def test_empty_case_has_every_key():
    assert (
        fold([]).state
        == empty_state()
        == {
            "qualification": {"violation": None, "by": None},
            "acts": [],
            "priority": None,
            "client_code": None,
            "responses": [],
            "complaints": [],
            "outcome": {"resolution": None, "closed_day": None},
            "consent": [],
            "assignee": None,
            "conflicts": [],
            "rejected": [],
        }
    )


def test_an_event_id_reused_for_other_content_is_rejected():
    twin = event(hexid(1), 1, "set_priority", {"priority": "urgent"}, author="B")
    state = fold([item(SAMPLE[0]), item(twin)]).state
    assert state["priority"] is None
    assert [r["reason"] for r in state["rejected"]] == ["reused event id", "reused event id"]
