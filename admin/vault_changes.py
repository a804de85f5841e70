"""What one save changed in the vault's index, as a short list of operations.

A save appends only its changes to the index log (admin.vault_log), so the
cost of a read mark does not grow with the vault. The changes between the
index as it is on disk (base) and as this process holds it (mine) are
operations on the top-level keys and, inside a section that is a dict
(reports, manifests, a module's section), on its entries:

    ["set", key, value]        ["del", key]
    ["put", key, sub, value]   ["drop", key, sub]
    ["list", key, removed, added]   (a list: these items out, these appended)

Applied in order to base they give mine exactly. Bringing in what another
process appended follows admin.vault_lock.merge for every part it touched.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from admin.vault_lock import merge

Op = list[Any]
_MISSING = object()


def diff(
    base: dict[str, Any], mine: dict[str, Any], touched: dict[str, set[str]] | None = None
) -> list[Op]:
    """The operations that turn base into mine.

    touched names, for some sections, the only entries that may have
    changed (comparing every report of a large vault would cost more than
    the rest of a save); such a section is compared whole all the same if
    its size changed by more than the touched entries explain.
    """
    touched = touched or {}
    ops: list[Op] = []
    for key, value in mine.items():
        old = base.get(key, _MISSING)
        if old is _MISSING:
            ops.append(["set", key, value])
        elif isinstance(old, dict) and isinstance(value, dict):
            ops += _diff_section(key, old, value, _explained(touched.get(key), old, value))
        elif old != value:
            ops.append(_list_op(key, old, value) or ["set", key, value])
    ops += [["del", key] for key in base if key not in mine]
    return ops


def _explained(subs: set[str] | None, old: dict[str, Any], new: dict[str, Any]) -> set[str] | None:
    """subs, if the entries added and removed among them account for the section's new size."""
    if subs is None:
        return None
    added = sum(1 for s in subs if s in new and s not in old)
    removed = sum(1 for s in subs if s in old and s not in new)
    return subs if len(new) - len(old) == added - removed else None


def _diff_section(
    key: str, old: dict[str, Any], new: dict[str, Any], subs: set[str] | None
) -> list[Op]:
    if subs is not None:
        changed = [s for s in sorted(subs) if old.get(s, _MISSING) != new.get(s, _MISSING)]
        return [["put", key, s, new[s]] if s in new else ["drop", key, s] for s in changed]
    ops: list[Op] = [
        ["put", key, sub, value] for sub, value in new.items() if old.get(sub, _MISSING) != value
    ]
    return ops + [["drop", key, sub] for sub in old if sub not in new]


def _item_key(value: Any) -> Any:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _list_op(key: str, old: Any, new: Any) -> Op | None:
    """A "list" operation from old to new, if removing and appending items gives new exactly."""
    if not isinstance(old, list) or not isinstance(new, list):
        return None
    before = {_item_key(v) for v in old}
    after = {_item_key(v) for v in new}
    removed = [v for v in old if _item_key(v) not in after]
    added = [v for v in new if _item_key(v) not in before]
    if _apply_list(old, removed, added) != new:
        return None
    return ["list", key, removed, added]


def _apply_list(current: list[Any], removed: list[Any], added: list[Any]) -> list[Any]:
    gone = {_item_key(v) for v in removed}
    return [v for v in current if _item_key(v) not in gone] + list(added)


def apply(index: dict[str, Any], ops: list[Op]) -> None:
    """Apply operations to index in place; their values become part of it (pass fresh ones).

    Raises ValueError for an operation that is not one of the five.
    """
    for op in ops:
        _apply_one(index, op)


def _apply_one(index: dict[str, Any], op: Op) -> None:
    match op:
        case ["set", str(key), value]:
            index[key] = value
        case ["del", str(key)]:
            index.pop(key, None)
        case ["put", str(key), str(sub), value]:
            section = index.get(key)
            if not isinstance(section, dict):
                section = index[key] = {}
            section[sub] = value
        case ["drop", str(key), str(sub)]:
            section = index.get(key)
            if isinstance(section, dict):
                section.pop(sub, None)
        case ["list", str(key), list(removed), list(added)]:
            current = index.get(key)
            index[key] = _apply_list(current if isinstance(current, list) else [], removed, added)
        case _:
            raise ValueError("not an index operation")


def merge_theirs(base: dict[str, Any], mine: dict[str, Any], theirs: list[Op]) -> None:
    """Bring into mine, in place, the operations another process applied to base.

    As admin.vault_lock.merge(base, mine, base + theirs) would: my changes
    since base win, theirs are kept, for every key or entry they touched.
    Nothing of base or theirs is shared with mine afterwards.
    """
    touched: dict[str, set[str] | None] = {}  # key -> entries touched, None: the whole key
    for op in theirs:
        subs = touched.setdefault(op[1], set())
        if op[0] in ("put", "drop") and subs is not None:
            subs.add(op[2])
        else:
            touched[op[1]] = None
    for key, subs in touched.items():
        by_entry = isinstance(mine.get(key), dict) and isinstance(base.get(key, {}), dict)
        if subs is not None and by_entry:
            _merge_entries(key, subs, base, mine, theirs)
        else:
            _merge_whole(key, base, mine, theirs)


def _merge_entries(
    key: str, subs: set[str], base: dict[str, Any], mine: dict[str, Any], theirs: list[Op]
) -> None:
    old_section = base.get(key, {})
    holder = {key: {s: old_section[s] for s in subs if s in old_section}}
    apply(holder, [op for op in theirs if op[1] == key])
    their_section, my_section = holder[key], mine[key]
    for sub in subs:
        merged = merge(_one(sub, old_section), _one(sub, my_section), _one(sub, their_section))
        if sub in merged:
            my_section[sub] = copy.deepcopy(merged[sub])
        else:
            my_section.pop(sub, None)


def _merge_whole(key: str, base: dict[str, Any], mine: dict[str, Any], theirs: list[Op]) -> None:
    holder = copy.deepcopy(_one(key, base))
    apply(holder, [copy.deepcopy(op) for op in theirs if op[1] == key])
    merged = merge(_one(key, base), _one(key, mine), holder)
    if key in merged:
        mine[key] = copy.deepcopy(merged[key])
    else:
        mine.pop(key, None)


def _one(key: str, values: dict[str, Any]) -> dict[str, Any]:
    return {key: values[key]} if key in values else {}
