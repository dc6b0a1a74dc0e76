"""What one run produces: a plain, JSON-serialisable record."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

OUTCOMES = ("adopted", "vetoed", "failed", "withdrawn", "no_agreement")


@dataclass
class DraftVote:
    """A draft put to the vote: the penholder's, then any rival drafts."""

    by: str
    text: dict[str, str]
    adopted: bool = False
    vetoed_by: list[str] = field(default_factory=list)
    tally: dict[str, int] = field(default_factory=dict)
    votes: dict[str, str] = field(default_factory=dict)
    p_adopt: float = 0.0  # the chance of adoption the drafters expected


@dataclass
class Contribution:
    actor: str
    pledged: int
    delivered: int
    lead: bool


@dataclass
class RoundRecord:
    round: int
    text: dict[str, str]
    p_adopt: float
    intentions: dict[str, int]  # yes / abstain / no among members
    demands: list[dict[str, Any]]  # actor, clause, option, weight
    changed: bool
    amendments: list[dict[str, Any]] = field(default_factory=list)  # actor, changes


@dataclass
class RunResult:
    scenario: str
    seed: int | None
    protocol: str
    outcome: str  # one of OUTCOMES
    rounds: int
    text: dict[str, str] | None  # the adopted text
    opening: dict[str, str]  # the penholder's opening draft
    draft: dict[str, str]  # the penholder's last draft
    adopted_draft_by: str | None
    vetoed_by: list[str]
    tally: dict[str, int]  # of the decisive vote (empty if nothing was voted)
    votes: dict[str, str]
    voting_coalition: list[str]
    drafts: list[DraftVote]
    coalition: list[Contribution]
    kept_out: list[str]  # willing contributors the host refused or kept out
    host_consent: bool  # False when the adopted text crosses the host's red lines
    lead: str | None
    pledged_troops: int
    delivered_troops: int
    troops_required: int
    viable: bool
    coalition_stable: bool
    path: list[RoundRecord]
    params: dict[str, Any] = field(default_factory=dict)  # drawn parameters, by path
    why: dict[str, Any] = field(default_factory=dict)  # kind, actor, clause, option, text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")
