"""A validated scenario compiled to numpy arrays, and the per-run draw of its parameters.

Compiling happens once per scenario; each run then only copies the base arrays and
fills in the distribution-valued slots, one vectorised draw per distribution kind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import ScenarioError
from sim.scenario import overlay
from sim.scenario.behaviour import behaviour_of
from sim.scenario.distributions import Dist, Sampler, parse_dist
from sim.scenario.loader import validate_data
from sim.scenario.overrides import apply_override, check_ids, lookup, parse_value
from sim.scenario.schema import (
    Actor,
    Behaviour,
    Force,
    Negotiation,
    ScenarioSpec,
    Troops,
    VoteSpec,
    range_of,
)
from sim.scenario.textspace import UNORDERED, ClauseDef, TextSpace, clause_def

# Scenario-wide behaviour parameters each run uses as scalars (vote noise, abstention band and
# veto cost become per-actor defaults instead).
BEHAVIOUR_ARRAYS = (
    "elected_no_cost", "region_weight", "sovereignty_weight", "audience_weight",
    "caucus_cohesion", "firmness", "patience",
)  # fmt: skip
ARRAY_FIELDS = (
    "capability", "status_quo", "flexibility", "noise", "band", "veto_cost",
    "sovereignty", "audience", "salience", "ideal_pos", "option_util", "ties",
    "max_troops", "delivery", "willingness", "solidarity", "troops_required",
    "tabling_threshold", "withdraw_threshold", "force_weight", "pressure_weight",
    *BEHAVIOUR_ARRAYS,
)  # fmt: skip


@dataclass
class Params:
    """Every number one run uses, after its distributions are drawn.

    Shapes: A actors, C clauses, K = most options of any clause.
    """

    capability: np.ndarray  # (A,)
    status_quo: np.ndarray  # (A,) utility of no resolution, on the 0..1 text scale
    flexibility: np.ndarray  # (A,)
    noise: np.ndarray  # (A,) logit scale of vote noise
    band: np.ndarray  # (A,) abstention band
    veto_cost: np.ndarray  # (A,)
    sovereignty: np.ndarray  # (A,) how far the actor follows the host's objection to a text
    audience: np.ndarray  # (A,) worth of a veto on the record to the actor as drafter
    salience: np.ndarray  # (A, C)
    ideal_pos: np.ndarray  # (A, C) ideal position in [0, 1] (ordered and scale clauses)
    option_util: np.ndarray  # (A, C, K) utility per option in [0, 1] (unordered clauses)
    ties: np.ndarray  # (A, A) weight actor i puts on actor j's utility
    max_troops: np.ndarray  # (A,) troops pledged if committing (0: not a contributor)
    delivery: np.ndarray  # (A,) share of pledged troops that arrive
    willingness: np.ndarray  # (A,)
    solidarity: np.ndarray  # (A,)
    troops_required: np.ndarray  # () troops the force needs
    tabling_threshold: np.ndarray  # ()
    withdraw_threshold: np.ndarray  # ()
    force_weight: np.ndarray  # ()
    pressure_weight: np.ndarray  # ()
    elected_no_cost: np.ndarray  # () extra dislike an elected member needs before a no
    region_weight: np.ndarray  # () how far a regional body's stance moves votes
    sovereignty_weight: np.ndarray  # () how far the host's objection counts for its defenders
    audience_weight: np.ndarray  # () worth of a veto on the record to a drafter
    caucus_cohesion: np.ndarray  # () how far a caucus member's view moves to its group's
    firmness: np.ndarray  # () exponent of the concession schedule
    patience: np.ndarray  # () the drafting side's discount on next round's value
    sampled: dict[str, Any] = field(default_factory=dict)  # path -> drawn value


@dataclass(frozen=True)
class Slot:
    """Where one distribution-valued parameter lands in the arrays."""

    path: str
    array: str
    index: tuple[int, ...]
    dist: Dist
    convert: Callable[[Any], float]


@dataclass(frozen=True)
class Entry:
    """One parameter of the catalogue: where it lands in a run's arrays, its value in the
    scenario (a number, an option or a :class:`Dist`), and its valid range when numeric."""

    array: str
    index: tuple[int, ...]
    value: Any
    valid: tuple[float, float] | None  # None: not a number (an option of an ordered clause)
    convert: Callable[[Any], float]

    @property
    def numeric(self) -> bool:
        return self.valid is not None and not (
            isinstance(self.value, Dist) and self.value.support is None
        )


class Scenario:
    """A scenario ready to run: its file, text space, actors, fixed arrays and random slots."""

    def __init__(
        self, spec: ScenarioSpec, source: str = "<scenario>", data: Any = None,
        kept_draws: dict[str, Dist] | None = None,
    ):  # fmt: skip
        """``kept_draws``: distributions that overrides replaced by fixed values; they are
        still drawn (and ignored), so every other parameter gets the same draw in each run
        as without the override (common random numbers across grid points)."""
        self.spec = spec
        self.source = source
        self.data = data  # the parsed file, for overrides and manifests
        self.loaded: overlay.Loaded | None = None  # the file and any chain it extends
        self.kept: dict[str, Any] = {}  # the kept draws as written (from_data's ``kept``), by path
        self.space = TextSpace(tuple(clause_def(cid, c) for cid, c in spec.clauses.items()))
        self.actor_ids: tuple[str, ...] = tuple(spec.actors)
        self.index = {a: i for i, a in enumerate(self.actor_ids)}
        self.names = tuple(a.name for a in spec.actors.values())
        self.name_of = dict(zip(self.actor_ids, self.names, strict=True))  # read only
        c = spec.council
        self.members = np.array([self.index[m] for m in c.members], dtype=np.intp)
        self.veto = np.isin(self.members, [self.index[v] for v in c.veto])
        self.present = ~np.isin(self.members, [self.index[a] for a in c.absent])
        self.absent_members = bool(c.absent)
        self.votes_needed = c.votes_needed
        self.penholder = self.index[c.penholder]
        self.member_ids = tuple(self.actor_ids[m] for m in self.members)
        self.seat = tuple(
            "permanent" if a in c.veto else "elected" if a in c.members else "none"
            for a in self.actor_ids
        )
        self.slots: list[Slot] = []
        self.catalogue: dict[str, Entry] = {}  # every parameter by dotted path, in draw order
        self._kept_draws = kept_draws or {}
        self._draws: list[tuple[Dist, int]] = []  # every draw in order, and its slot (-1: kept)
        self._compile()

    # --- construction -----------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
        """A scenario file (one that ``extends:`` another is laid over its base first)."""
        loaded = overlay.load(path)
        try:
            scenario = cls.from_data(loaded.data, loaded.source, overrides, kept=loaded.kept)
        except ScenarioError as exc:
            raise overlay.validated(loaded, exc) from None
        scenario.loaded = loaded
        return scenario

    @classmethod
    def from_data(
        cls, data: Any, source: str = "<scenario>", overrides: dict[str, Any] | None = None,
        kept: dict[str, Any] | None = None,
    ) -> Scenario:  # fmt: skip
        """A scenario from parsed data, with ``{path: value}`` overrides. ``kept``: distributions
        (by path, as written) that a what-if file replaced by fixed values; like those an
        override replaces, they are still drawn, so the other draws stay paired with the base."""
        written = dict(kept or {})
        for path, value in (overrides or {}).items():
            check_ids(data, path, source)  # an override may not invent an actor or clause
            original = lookup(data, path)
            if isinstance(original, dict) and "dist" in original:
                written.setdefault(path, original)
            value = parse_value(value) if isinstance(value, str) else value
            data = apply_override(data, path, value, source)
        kept_draws: dict[str, Dist] = {}
        for path, spec in written.items():
            with contextlib.suppress(ValueError):  # a bad one is reported by validation
                kept_draws[path] = parse_dist(spec)
        spec = validate_data(data, source)
        scenario = cls(spec, source, data, kept_draws)
        scenario.kept = written  # what a recompile of ``data`` needs to draw the same
        return scenario

    @cached_property
    def name(self) -> str:
        return Path(self.source).stem

    def _param(self, path: str, array: str, index: tuple[int, ...], value: Any,
               valid: tuple[float, float] | None,
               convert: Callable[[Any], float] = float) -> None:  # fmt: skip
        self.catalogue[path] = Entry(array, index, value, valid, convert)
        if path in self._kept_draws and not isinstance(value, Dist):
            self._draws.append((self._kept_draws[path], -1))
        if isinstance(value, Dist):
            self._draws.append((value, len(self.slots)))
            self.slots.append(Slot(path, array, index, value, convert))
            # Fixed arrays hold the distribution's mid-support until a draw replaces it.
            lo, hi = value.support if value.support else (0.0, 0.0)
            mid = value.args[0][0] if value.kind == "choice" else (lo + hi) / 2
            self.base[array][index] = convert(mid)
        else:
            self.base[array][index] = convert(value)

    def _compile(self) -> None:
        spec, space = self.spec, self.space
        A, C, K = len(self.actor_ids), len(space.clauses), space.max_options
        self.base: dict[str, np.ndarray] = {name: np.zeros(()) for name in ARRAY_FIELDS}
        for name in ("capability", "status_quo", "flexibility", "noise", "band", "veto_cost",
                     "sovereignty", "audience", "max_troops", "delivery", "willingness",
                     "solidarity"):  # fmt: skip
            self.base[name] = np.zeros(A)
        self.base["salience"] = np.zeros((A, C))
        self.base["ideal_pos"] = np.zeros((A, C))
        self.base["option_util"] = np.zeros((A, C, K))
        self.base["ties"] = np.zeros((A, A))
        self.red = np.zeros((A, C, K), dtype=bool)
        self.allowed = np.broadcast_to(space.option_mask, (A, C, K)).copy()
        self.needs_resolution = np.zeros(A, dtype=bool)
        self.partners_required = np.zeros((A, A), dtype=bool)
        self.partners_refused = np.zeros((A, A), dtype=bool)
        self.lead_candidate = np.zeros(A, dtype=bool)
        self.is_contributor = np.zeros(A, dtype=bool)
        clause_ix = {c.id: i for i, c in enumerate(space.clauses)}
        self.behaviour = b = behaviour_of(spec.behaviour)

        unit, actor, vote, troops = (0.0, 1.0), range_of(Actor, "status_quo"), VoteSpec, Troops
        for i, (aid, a) in enumerate(spec.actors.items()):
            p = f"actors.{aid}"
            v = a.vote
            self._param(f"{p}.capability", "capability", (i,), a.capability, unit)
            self._param(f"{p}.status_quo", "status_quo", (i,), a.status_quo, actor)
            self._param(f"{p}.flexibility", "flexibility", (i,), a.flexibility, unit)
            self._param(f"{p}.vote.noise", "noise", (i,), _given(v.noise, b["vote_noise"]),
                        range_of(vote, "noise"))  # fmt: skip
            self._param(f"{p}.vote.abstain_band", "band", (i,),
                        _given(v.abstain_band, b["abstain_band"]), unit)  # fmt: skip
            self._param(f"{p}.vote.veto_cost", "veto_cost", (i,),
                        _given(v.veto_cost, b["veto_cost"]), unit)  # fmt: skip
            self._param(f"{p}.sovereignty", "sovereignty", (i,), a.sovereignty, unit)
            self._param(f"{p}.audience", "audience", (i,), a.audience, unit)
            for cid, s in a.salience.items():
                self._param(f"{p}.salience.{cid}", "salience", (i, clause_ix[cid]), s, unit)
            for cid, ideal in a.ideal.items():
                c = clause_ix[cid]
                cl = space.clauses[c]
                scale = cl.kind == "scale"
                conv = _scale_position(cl) if scale else _option_position(cl)
                valid = (cl.values[0], cl.values[-1]) if scale else None  # type: ignore[index]
                if isinstance(ideal, dict):
                    ideal = parse_dist(ideal)
                self._param(f"{p}.ideal.{cid}", "ideal_pos", (i, c), ideal, valid, conv)
            for cid, utils in a.utility.items():
                c = clause_ix[cid]
                for opt, u in utils.items():
                    k = space.clauses[c].index_of(opt)
                    self._param(f"{p}.utility.{cid}.{opt}", "option_util", (i, c, k), u, unit)
            for cid, opts in a.red_lines.items():
                c = clause_ix[cid]
                for opt in opts:
                    self.red[i, c, space.clauses[c].index_of(opt)] = True
            for other, w in a.ties.items():
                self._param(f"{p}.ties.{other}", "ties", (i, self.index[other]), w, unit)
            t = a.troops
            if t is None:
                continue
            self.is_contributor[i] = True
            self._param(f"{p}.troops.max", "max_troops", (i,), t.max, range_of(troops, "max"))
            self._param(f"{p}.troops.delivery", "delivery", (i,), t.delivery, unit)
            self._param(f"{p}.troops.willingness", "willingness", (i,), t.willingness,
                        range_of(troops, "willingness"))  # fmt: skip
            self._param(f"{p}.troops.solidarity", "solidarity", (i,), t.solidarity, unit)
            self.needs_resolution[i] = t.requires_resolution
            self.lead_candidate[i] = t.lead_candidate
            for cid, opt in t.min_option.items():
                c = clause_ix[cid]
                self.allowed[i, c, : space.clauses[c].index_of(opt)] = False
            for cid, opt in t.max_option.items():
                c = clause_ix[cid]
                self.allowed[i, c, space.clauses[c].index_of(opt) + 1 :] = False
            for cid, opts in t.accepts.items():
                c = clause_ix[cid]
                keep = np.zeros(K, dtype=bool)
                keep[[space.clauses[c].index_of(o) for o in opts]] = True
                self.allowed[i, c] &= keep
            for other in t.partners_required:
                self.partners_required[i, self.index[other]] = True
            for other in t.partners_refused:
                self.partners_refused[i, self.index[other]] = True

        f = spec.force
        self._param("force.troops_required", "troops_required", (), f.troops_required,
                    range_of(Force, "troops_required"))  # fmt: skip
        self.host = self.index[f.host] if f.host else -1
        self.refused = np.isin(np.arange(A), [self.index[r] for r in f.refused])
        if f.lead_clause is None:
            self.lead_clause = -1
            self.may_lead = np.isin(np.arange(A), [self.index[x] for x in f.may_lead])[None, :]
            if not f.may_lead:  # no list: any lead candidate may lead
                self.may_lead[:] = True
        else:
            self.lead_clause = clause_ix[f.lead_clause]
            cl = space.clauses[self.lead_clause]
            self.may_lead = np.zeros((cl.size, A), dtype=bool)
            for opt, ids in f.may_lead.items():  # type: ignore[union-attr]
                self.may_lead[cl.index_of(opt), [self.index[x] for x in ids]] = True

        n = spec.negotiation
        for name in ("tabling_threshold", "withdraw_threshold", "force_weight", "pressure_weight"):
            self._param(f"negotiation.{name}", name, (), getattr(n, name),
                        range_of(Negotiation, name))  # fmt: skip
        for name in BEHAVIOUR_ARRAYS:
            self._param(f"behaviour.{name}", name, (), b[name], range_of(Behaviour, name))
        self.protocol = n.protocol
        self.max_rounds = n.max_rounds
        self.rival_drafts = n.rival_drafts
        self.enumerate_limit = n.enumerate_limit
        self.opening_draft = space.parse(n.opening_draft)
        self.unordered = np.array([c.kind == UNORDERED for c in space.clauses])
        self._compile_context(clause_ix)
        # Constants every run needs: who sits where, who has red lines, who can contribute.
        self.on_council = np.isin(np.arange(A), self.members)
        self.veto_holder = np.isin(np.arange(A), self.members[self.veto])
        self.red_rows = np.flatnonzero(self.red.any(axis=(1, 2)))
        self.red_lines = self.red[self.red_rows]  # (R, C, K) of the actors with red lines
        self.contrib = np.flatnonzero(self.is_contributor & ~self.refused)
        self.contrib_allowed = self.allowed[self.contrib]
        self.contrib_can_lead = self.may_lead[:, self.contrib] & self.lead_candidate[self.contrib]
        self._sampler = Sampler([d for d, _ in self._draws])
        self._slot_draws = [k for k, (_, slot) in enumerate(self._draws) if slot >= 0]
        self._paths = [s.path for s in self.slots]
        self._converted = [i for i, s in enumerate(self.slots) if s.convert is not float]
        direct: dict[str, tuple[list[int], list[int]]] = {}
        for i, s in enumerate(self.slots):
            if s.convert is float:
                positions, flat = direct.setdefault(s.array, ([], []))
                positions.append(i)
                flat.append(int(np.ravel_multi_index(s.index, self.base[s.array].shape)))
        self._direct = direct

    def _compile_context(self, clause_ix: dict[str, int]) -> None:
        """Co-penholders, caucus groups, regional bodies and coherence rules as arrays."""
        spec, space = self.spec, self.space
        C, K, M = len(space.clauses), space.max_options, len(self.members)
        member_ix = {int(m): k for k, m in enumerate(self.members)}
        self.drafters = np.array(
            [self.penholder, *(self.index[x] for x in spec.council.co_penholders)], dtype=np.intp
        )
        groups = list(spec.groups.values())
        self.groups = np.zeros((len(groups), M), dtype=bool)  # (G, M)
        for g, grp in enumerate(groups):
            self.groups[g, [member_ix[self.index[x]] for x in grp.members]] = True
        self.group_cohesion = np.array(
            [np.nan if grp.cohesion is None else float(grp.cohesion) for grp in groups]
        )  # NaN: the scenario-wide caucus_cohesion
        bodies = list(spec.bodies.values())
        stance_value = {"request": 1.0, "endorse": 0.5, "neutral": 0.0, "oppose": -1.0}
        self.body_stance = np.array([stance_value[b.stance] for b in bodies])  # (B,)
        self.body_members = np.zeros((len(bodies), M), dtype=bool)  # (B, M) Council members
        self.body_rejects = np.zeros((len(bodies), C, K), dtype=bool)
        for b, body in enumerate(bodies):
            for x in body.members:
                if self.index[x] in member_ix:
                    self.body_members[b, member_ix[self.index[x]]] = True
            for cid, opts in body.rejects.items():
                cl = space.clauses[clause_ix[cid]]
                self.body_rejects[b, clause_ix[cid], [cl.index_of(o) for o in opts]] = True
        self.rule_when, self.rule_require = _compile_rules(spec.rules, space, clause_ix)

    # --- per run ------------------------------------------------------------------------

    def draw(self, rng: np.random.Generator, fixed: Mapping[str, Any] | None = None) -> Params:
        """Draw every distribution once: the parameters of one run. ``fixed`` ({path: value},
        paths from :attr:`catalogue`) then sets parameters in their places: every draw is
        made as without it, so the other parameters get the same values."""
        params = self._draw(rng)
        for path, value in (fixed or {}).items():
            e = self.catalogue[path]
            getattr(params, e.array)[e.index] = e.convert(value)
        return params

    def _draw(self, rng: np.random.Generator) -> Params:
        arrays = {name: arr.copy() for name, arr in self.base.items()}
        if not self.slots:
            return Params(**arrays, sampled={})
        drawn = self._sampler.draw(rng)
        values = [drawn[k] for k in self._slot_draws]
        for name, (positions, flat) in self._direct.items():  # plain numbers, one array at a time
            arrays[name].flat[flat] = [values[i] for i in positions]
        for i in self._converted:  # option names and scale values become positions
            slot = self.slots[i]
            arrays[slot.array][slot.index] = slot.convert(values[i])
        return Params(**arrays, sampled=dict(zip(self._paths, values, strict=True)))


def _compile_rules(rules: list[Any], space: TextSpace,
                   clause_ix: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(R, C, K) options that trigger each rule (all True on clauses it does not name) and the
    options it then allows (likewise)."""
    C, K = len(space.clauses), space.max_options
    when = np.ones((len(rules), C, K), dtype=bool)
    require = np.ones((len(rules), C, K), dtype=bool)
    for r, rule in enumerate(rules):
        for cid, value in rule.when.items():
            c, cl = clause_ix[cid], space.clauses[clause_ix[cid]]
            when[r, c] = False
            when[
                r, c, [cl.index_of(v) for v in (value if isinstance(value, list) else [value])]
            ] = True
        for cid, need in rule.require.items():
            c, cl = clause_ix[cid], space.clauses[clause_ix[cid]]
            require[r, c] = False
            if isinstance(need, dict):
                lo = cl.index_of(need["at_least"]) if "at_least" in need else 0
                hi = cl.index_of(need["at_most"]) if "at_most" in need else cl.size - 1
                require[r, c, lo : hi + 1] = True
            else:
                require[
                    r, c, [cl.index_of(v) for v in (need if isinstance(need, list) else [need])]
                ] = True
    return when, require


def _given(own: Any, default: Any) -> Any:
    """An actor's own value where it gives one, else the scenario-wide one."""
    return default if own is None else own


def _scale_position(cl: ClauseDef) -> Callable[[Any], float]:
    lo, hi = cl.values[0], cl.values[-1]  # type: ignore[index]
    return lambda v: (float(v) - lo) / (hi - lo)


def _option_position(cl: ClauseDef) -> Callable[[Any], float]:
    positions = cl.positions
    return lambda v: float(positions[cl.index_of(v)])


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load, validate and compile a scenario file (optionally with ``{path: value}`` overrides)."""
    return Scenario.from_file(path, overrides)
