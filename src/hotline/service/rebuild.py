"""`projections rebuild` in one pass (docs/projections.md, docs/verify.md).

The store is read once, in aggregate order, within one snapshot together with the old
read model's audit trail: each event is decrypted, decoded and linked once, checked as
`verify` checks it (chains, versions, the old trail, the store's positions), and folded
into the new read model's rows, written in one transaction that replaces the old read
model only if nothing is wrong (or the caller says to all the same). No event is validated
against its model: its chain, checked against the next event's, vouches that its bytes are
those hotline wrote after validating them (with a key, AES-GCM authenticates them too); an
event the fold cannot read is a problem like a failed validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from hotline.adapters.readmodel import Change, ReadModel
from hotline.service.projection import OrderProjection
from hotline.service.verify import Entry, Verification, scan


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild found, and how many events it applied (None: it refused)."""

    found: Verification
    applied: int | None


def rebuild(projection: OrderProjection, despite_problems: bool = False) -> Rebuilt:
    """Check the store and refill `projection`'s read model from it in one pass; a store with
    problems leaves the read model as it was, unless `despite_problems`."""
    readmodel: ReadModel = projection.readmodel
    with readmodel.refill() as refill:

        def fold(aggregate: UUID, entries: list[Entry]) -> dict[int, str]:
            key = str(aggregate)
            changes: list[Change] = []
            for entry in entries:
                state = entry.state
                if state is None:  # not decrypted or not JSON: a problem already
                    continue
                row = entry.row
                if row.role is not None:
                    state["role"] = row.role
                change = Change(key, row.version, row.topic.rpartition(":")[2], state,
                                link=entry.link)  # fmt: skip
                changes.append(change)
                if change.name == "Corrected":
                    changes.extend(projection.replayed(change))
            return refill.add(changes)

        found = scan(projection.app, fold=fold)
        if found.problems and not despite_problems:
            return Rebuilt(found, None)
        refill.commit(found.newest)
        return Rebuilt(found, refill.applied)
