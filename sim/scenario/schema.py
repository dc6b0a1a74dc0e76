"""The scenario file's shape: pydantic models with ``extra="forbid"``.

Numeric parameters are ``Param`` fields: a number in a stated range, or a
distribution (see :mod:`sim.scenario.distributions`) whose draws stay inside that range.
Cross-references (actor ids, clause and option names) are checked afterwards in
:mod:`sim.scenario.loader`, where the whole file is known.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator

from sim.errors import OptionError
from sim.scenario.distributions import Dist, finite, parse_dist, short_repr

# The negotiation protocols a scenario (or an option) may name; sim.model.protocols has one
# class for each (a test holds the two together).
PROTOCOLS = ("penholder", "penholder-v1", "compromise", "expected-utility")


def protocol_name(name: str) -> str:
    """``name`` if it names a protocol, else a one-line error naming the argument."""
    if name not in PROTOCOLS:
        raise OptionError("protocol", f"expected one of {', '.join(PROTOCOLS)}, got {name!r}")
    return name


Number = float | Dist


def fmt_num(x: float) -> str:
    """Format a bound without trailing zeros (1.0 -> 1, 0.25 -> 0.25)."""
    return f"{x:g}"


def describe_range(lo: float, hi: float) -> str:
    if math.isinf(hi):
        return f"a number >= {fmt_num(lo)}"
    return f"a number in [{fmt_num(lo)}, {fmt_num(hi)}]"


def check_param(value: Any, lo: float, hi: float) -> Number:
    """Accept a finite number in [lo, hi] or a distribution whose support lies in [lo, hi]
    (NaN and infinity are refused, in distribution parameters too)."""
    rng = describe_range(lo, hi)
    if isinstance(value, dict):
        if "dist" not in value:
            raise ValueError(f"expected {rng} or a {{dist: ...}} mapping, got {short_repr(value)}")
        d = parse_dist(value)
        if d.support is None:
            raise ValueError(f"expected a distribution over numbers, got {d.describe()}")
        if math.isinf(d.support[0]) and not (math.isinf(lo) and math.isinf(hi)):
            raise ValueError(
                f"expected draws in [{fmt_num(lo)}, {fmt_num(hi)}]: give the normal a clip, "
                f"got {d.describe()}"
            )
        if d.support[0] < lo or d.support[1] > hi:
            raise ValueError(f"expected a distribution within {rng}, got {d.describe()}")
        return d
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected {rng} or a distribution, got {short_repr(value)}")
    if not finite(value):
        raise ValueError(f"expected {rng} (a finite number), got {short_repr(value)}")
    if not lo <= value <= hi:
        raise ValueError(f"expected {rng}, got {fmt_num(value)}")
    return float(value)


@dataclass(frozen=True)
class Range:
    """The valid range of a numeric field (kept on the field, read by :func:`range_of`)."""

    low: float
    high: float


def Param(lo: float, hi: float = math.inf) -> Any:
    """A numeric field in [lo, hi] that may also be a distribution."""
    return Annotated[Any, PlainValidator(lambda v: check_param(v, lo, hi)), Range(lo, hi)]


def range_of(model: type[BaseModel], name: str) -> tuple[float, float]:
    """The valid range of the numeric field ``name`` of ``model``."""
    info = model.model_fields[name]
    found = [m for m in info.metadata if isinstance(m, Range)]
    for arg in get_args(info.annotation):  # Param | None
        found += [m for m in getattr(arg, "__metadata__", ()) if isinstance(m, Range)]
    if not found:
        raise KeyError(f"{model.__name__}.{name} is not a numeric field")
    return found[0].low, found[0].high


Unit = Param(0.0, 1.0)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Council(Strict):
    members: list[str] = Field(min_length=1)
    veto: list[str] = []
    votes_needed: int = Field(default=9, ge=1)
    penholder: str
    co_penholders: list[str] = []  # members who hold the pen with the penholder
    absent: list[str] = []  # members who will not take part in the vote


class Clause(Strict):
    label: str
    kind: str  # ordered | unordered | scale (checked with the other cross-field rules)
    section: str = "operative"  # operative | preamble
    description: str = ""
    options: dict[str, str] | None = None  # option id -> paragraph template ("" = no paragraph)
    min: float | None = None
    max: float | None = None
    step: float | None = None
    unit: str = ""
    template: str | None = None  # scale clauses: one template with {value}
    labels: dict[str, str] = {}  # option id -> words for charts and briefings (optional)


class VoteSpec(Strict):
    """An actor's own vote parameters; a field left out takes the scenario's behaviour value."""

    noise: Param(0.0, 10.0) | None = None  # type: ignore[valid-type]
    abstain_band: Unit | None = None  # type: ignore[valid-type]
    veto_cost: Unit | None = None  # type: ignore[valid-type]


class Troops(Strict):
    max: Param(0.0, 1e6)  # type: ignore[valid-type]
    delivery: Unit = 1.0  # type: ignore[valid-type]
    willingness: Param(-1.0, 1.0) = 0.5  # type: ignore[valid-type]
    solidarity: Unit = 0.0  # type: ignore[valid-type]
    requires_resolution: bool = True
    min_option: dict[str, str | float] = {}
    max_option: dict[str, str | float] = {}
    accepts: dict[str, list[str]] = {}
    partners_required: list[str] = []
    partners_refused: list[str] = []
    lead_candidate: bool = False


class Actor(Strict):
    name: str
    capability: Unit  # type: ignore[valid-type]
    status_quo: Param(-1.0, 1.0)  # type: ignore[valid-type]
    flexibility: Unit = 0.0  # type: ignore[valid-type]
    ideal: dict[str, Any] = {}
    salience: dict[str, Unit] = {}  # type: ignore[valid-type]
    utility: dict[str, dict[str, Unit]] = {}  # type: ignore[valid-type]
    red_lines: dict[str, list[str | float]] = {}
    ties: dict[str, Unit] = {}  # type: ignore[valid-type]
    vote: VoteSpec = VoteSpec()
    troops: Troops | None = None
    sovereignty: Unit = 0.0  # type: ignore[valid-type]  # how far it follows the host's objection
    audience: Unit = 0.0  # type: ignore[valid-type]  # worth of a veto on the record, as drafter


class Force(Strict):
    troops_required: Param(0.0, 1e7) = 0.0  # type: ignore[valid-type]
    host: str | None = None
    refused: list[str] = []
    lead_clause: str | None = None
    may_lead: list[str] | dict[str, list[str]] = []


MAX_ENUMERATE_LIMIT = 100_000  # texts scored at once: memory grows with texts x actors x clauses


class Negotiation(Strict):
    protocol: str = "penholder"
    max_rounds: int = Field(default=10, ge=1, le=1000)
    tabling_threshold: Unit = 0.8  # type: ignore[valid-type]
    withdraw_threshold: Unit = 0.05  # type: ignore[valid-type]
    force_weight: Unit = 0.3  # type: ignore[valid-type]
    pressure_weight: Param(0.0, 10.0) = 0.5  # type: ignore[valid-type]
    rival_drafts: bool = True
    opening_draft: dict[str, str | float] = {}
    enumerate_limit: int = Field(default=4096, ge=1, le=MAX_ENUMERATE_LIMIT)


class Behaviour(Strict):
    """Scenario-wide behavioural parameters; a field left out takes the calibrated default
    (``sim/scenario/calibrated.yaml``, fitted by ``stabsim backtest --calibrate``)."""

    vote_noise: Param(0.0, 10.0) | None = None  # type: ignore[valid-type]
    abstain_band: Unit | None = None  # type: ignore[valid-type]
    veto_cost: Unit | None = None  # type: ignore[valid-type]
    elected_no_cost: Unit | None = None  # type: ignore[valid-type]
    region_weight: Unit | None = None  # type: ignore[valid-type]
    sovereignty_weight: Unit | None = None  # type: ignore[valid-type]
    audience_weight: Param(0.0, 5.0) | None = None  # type: ignore[valid-type]
    caucus_cohesion: Unit | None = None  # type: ignore[valid-type]
    firmness: Param(0.05, 20.0) | None = None  # type: ignore[valid-type]
    patience: Unit | None = None  # type: ignore[valid-type]


class Group(Strict):
    """A caucus on the Council (the A3+, the E10, the Arab Group's seat) that coordinates."""

    name: str
    members: list[str] = Field(min_length=2)
    cohesion: Unit | None = None  # type: ignore[valid-type]


class Body(Strict):
    """A regional organisation and its stance on a text."""

    name: str
    members: list[str] = []
    stance: Literal["request", "endorse", "neutral", "oppose"] = "neutral"
    rejects: dict[str, list[str | float]] = {}  # options that turn its stance to oppose


class Rule(Strict):
    """Coherence across clauses: a text with an option in ``when`` must meet ``require``."""

    when: dict[str, str | float | list[str | float]]
    require: dict[str, str | float | list[str | float] | dict[str, str | float]]
    why: str = ""


VOTES = ("yes", "abstain", "no", "absent")
OBSERVED_OUTCOMES = ("adopted", "vetoed", "failed", "withdrawn", "not_voted")


class ObservedTroops(Strict):
    actor: str
    pledged: int | None = Field(default=None, ge=0)
    deployed: int | None = Field(default=None, ge=0)
    date: datetime.date | None = None
    source: str = ""


def _vote_word(value: Any) -> Any:
    """YAML 1.1 reads an unquoted yes or no as a boolean; a vote means the word."""
    return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value


Vote = Annotated[Literal["yes", "abstain", "no", "absent"], BeforeValidator(_vote_word)]


class Observed(Strict):
    """What really happened. Never used to set preferences; read only by the backtest."""

    outcome: Literal["adopted", "vetoed", "failed", "withdrawn", "not_voted"]
    date: datetime.date | None = None
    document: str = ""  # S/RES/1497 (2003), or the draft's symbol S/2012/77
    vetoed_by: list[str] = []
    votes: dict[str, Vote] = {}
    text: dict[str, str | float] = {}  # the options of the text put to the vote
    troops: list[ObservedTroops] = []
    independent: bool = True  # False: preferences were written knowing the outcome
    sources: list[str] = []
    notes: str = ""


class ScenarioSpec(Strict):
    name: str
    description: str = ""
    sources: list[str] = []
    preamble: list[str] = []
    council: Council
    clauses: dict[str, Clause] = Field(min_length=1)
    actors: dict[str, Actor] = Field(min_length=1)
    force: Force = Force()
    negotiation: Negotiation = Negotiation()
    behaviour: Behaviour = Behaviour()
    groups: dict[str, Group] = {}
    bodies: dict[str, Body] = {}
    rules: list[Rule] = []
    observed: Observed | None = None
