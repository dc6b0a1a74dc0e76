"""Cross-field checks of a structurally valid scenario: every actor, clause and option a field
names exists; council roles fit the membership; scale clauses divide evenly; rules, bodies,
groups and the observed outcome are consistent. Every problem is collected, each with its
field path, so a file with three mistakes gets three lines.
"""

from __future__ import annotations

import math
from typing import Any

from sim.errors import Problem
from sim.scenario.distributions import Dist, parse_dist, short_repr
from sim.scenario.schema import PROTOCOLS, ScenarioSpec, check_param
from sim.scenario.textspace import CLAUSE_KINDS, SCALE, UNORDERED, ClauseDef, clause_def

MAX_SCALE_VALUES = 10_000
MAX_TEXTS = 2**62  # possible texts (the product of the clauses' option counts): int64 counts
# Working size of a run: actors x clauses x (texts scored at once: enumerate_limit, or every
# option of every clause when climbing); 8 bytes each, about 1 GB at most.
MAX_WORK = 125_000_000
MAX_LISTED = 20  # ids listed in an "expected one of" message


def one_of(names: Any) -> str:
    """``a, b, c`` for an "expected one of" message, at most MAX_LISTED names."""
    names = list(names)
    more = f", ... ({len(names)} in all)" if len(names) > MAX_LISTED else ""
    return ", ".join(str(n) for n in names[:MAX_LISTED]) + more


class CrossChecks:
    """Collects every cross-reference problem in a structurally valid scenario."""

    def __init__(self, spec: ScenarioSpec):
        self.spec = spec
        self.problems: list[Problem] = []
        self.clauses: dict[str, ClauseDef] = {}

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def actor(self, path: str, aid: str) -> bool:
        if aid in self.spec.actors:
            return True
        self.add(path, f"unknown actor {aid!r}; expected one of: {one_of(self.spec.actors)}")
        return False

    def clause(self, path: str, cid: str) -> ClauseDef | None:
        if cid in self.clauses:
            return self.clauses[cid]
        if cid not in self.spec.clauses:
            self.add(path, f"unknown clause '{cid}'; expected one of: {one_of(self.spec.clauses)}")
        return None

    def option(self, path: str, cl: ClauseDef, opt: Any) -> int | None:
        try:
            return cl.index_of(opt)
        except KeyError:
            if cl.kind == SCALE:
                self.add(
                    path,
                    f"expected a value on the scale {cl.options[0]}..{cl.options[-1]} in steps "
                    f"of {_step(cl)}{' ' + cl.unit if cl.unit else ''}, got {short_repr(opt)}",
                )
            else:
                self.add(
                    path,
                    f"unknown option {short_repr(opt)}; expected one of: {one_of(cl.options)}",
                )
            return None

    def duplicates(self, path: str, items: list) -> None:
        seen = set()
        for x in items:
            if x in seen:
                self.add(path, f"duplicate id '{x}'")
            seen.add(x)

    def run(self) -> list[Problem]:
        self.check_clauses()
        self.check_council()
        for aid, actor in self.spec.actors.items():
            self.check_actor(aid, actor)
        self.check_force()
        self.check_negotiation()
        self.check_groups()
        self.check_bodies()
        self.check_rules()
        self.check_observed()
        return self.problems

    def check_clauses(self) -> None:
        for cid, c in self.spec.clauses.items():
            p = f"clauses.{cid}"
            if c.kind not in CLAUSE_KINDS:
                self.add(f"{p}.kind", f"expected one of {', '.join(CLAUSE_KINDS)}, got {c.kind!r}")
                continue
            if c.section not in ("operative", "preamble"):
                self.add(f"{p}.section", f"expected operative or preamble, got {c.section!r}")
            if c.kind == SCALE:
                bad = False
                for f in ("min", "max", "step"):
                    if getattr(c, f) is None:
                        self.add(f"{p}.{f}", "required for a scale clause")
                        bad = True
                if c.options is not None:
                    self.add(
                        f"{p}.options",
                        "a scale clause takes min, max, step and template, not options",
                    )
                    bad = True
                if c.template is None:
                    self.add(
                        f"{p}.template", "required for a scale clause (use {value} for the value)"
                    )
                    bad = True
                if bad:
                    continue
                infinite = [f for f in ("min", "max", "step") if not math.isfinite(getattr(c, f))]
                if infinite:
                    f = infinite[0]
                    self.add(f"{p}.{f}", f"expected a finite number, got {getattr(c, f)}")
                    continue
                if not c.min < c.max:  # type: ignore[operator]
                    self.add(f"{p}.max", f"expected max > min ({c.min:g}), got {c.max:g}")
                    continue
                if not c.step > 0:  # type: ignore[operator]
                    self.add(f"{p}.step", f"expected a number > 0, got {c.step:g}")
                    continue
                n = (c.max - c.min) / c.step  # type: ignore[operator]
                if not math.isfinite(n) or abs(n - round(n)) > 1e-9 or n + 1 > MAX_SCALE_VALUES:
                    self.add(
                        f"{p}.step",
                        f"expected a step that divides max - min into at most "
                        f"{MAX_SCALE_VALUES} values, got {c.step:g}",
                    )
                    continue
            else:
                for f in ("min", "max", "step", "template"):
                    if getattr(c, f) is not None:
                        self.add(
                            f"{p}.{f}", f"only scale clauses take {f}; this clause is {c.kind}"
                        )
                if not c.options or len(c.options) < 2:
                    self.add(
                        f"{p}.options", f"expected at least 2 options, got {len(c.options or {})}"
                    )
                    continue
            if c.labels and c.kind == SCALE:
                self.add(f"{p}.labels", "a scale clause shows its values; labels are for options")
                continue
            bad = [o for o in c.labels if o not in (c.options or {})]
            if bad:
                self.add(
                    f"{p}.labels.{bad[0]}",
                    f"unknown option {bad[0]!r}; expected one of: {one_of(c.options or {})}",
                )
                continue
            self.clauses[cid] = clause_def(cid, c)
        if len(self.clauses) == len(self.spec.clauses):
            texts = math.prod(cl.size for cl in self.clauses.values())
            if texts > MAX_TEXTS:
                self.add(
                    "clauses",
                    f"expected at most 2^62 possible texts (the product of the clauses' option "
                    f"counts), got {texts:.3g} from {len(self.clauses)} clauses",
                )

    def check_council(self) -> None:
        c = self.spec.council
        self.duplicates("council.members", c.members)
        self.duplicates("council.veto", c.veto)
        for i, m in enumerate(c.members):
            self.actor(f"council.members[{i}]", m)
        for i, v in enumerate(c.veto):
            if v not in c.members:
                self.add(f"council.veto[{i}]", f"veto holder {v!r} is not a Council member")
        if c.penholder not in c.members:
            self.add(
                "council.penholder", f"the penholder must sit on the Council, got {c.penholder!r}"
            )
        for field in ("co_penholders", "absent"):
            for i, m in enumerate(getattr(c, field)):
                if m not in c.members:
                    self.add(f"council.{field}[{i}]", f"expected a Council member, got {m!r}")
        if c.penholder in c.co_penholders:
            self.add("council.co_penholders", f"{c.penholder!r} is already the penholder")
        if c.penholder in c.absent:
            self.add("council.absent", f"the penholder {c.penholder!r} cannot be absent")
        if c.votes_needed > len(set(c.members)):
            self.add(
                "council.votes_needed",
                f"expected at most the {len(set(c.members))} Council members, got {c.votes_needed}",
            )

    def check_actor(self, aid: str, a: Any) -> None:
        p = f"actors.{aid}"
        for cid, sal in a.salience.items():
            cl = self.clause(f"{p}.salience.{cid}", cid)
            if cl is None:
                continue
            positive = isinstance(sal, Dist) or sal > 0
            if cl.kind == UNORDERED and cid not in a.utility and positive:
                self.add(
                    f"{p}.utility.{cid}",
                    "required: an unordered clause with salience needs a utility per option",
                )
            if cl.kind != UNORDERED and cid not in a.ideal and positive:
                self.add(
                    f"{p}.ideal.{cid}", "required: a clause with salience needs an ideal option"
                )
        for cid, ideal in a.ideal.items():
            cl = self.clause(f"{p}.ideal.{cid}", cid)
            if cl is None:
                continue
            path = f"{p}.ideal.{cid}"
            if cl.kind == UNORDERED:
                self.add(path, "an unordered clause takes utility per option, not an ideal")
            elif cl.kind == SCALE:
                if not isinstance(ideal, dict):  # a fixed ideal is one of the scale's values
                    self.option(path, cl, ideal)
                    continue
                try:  # an uncertain ideal may fall anywhere on the scale
                    check_param(ideal, cl.values[0], cl.values[-1])  # type: ignore[index]
                except ValueError as exc:
                    self.add(path, str(exc))
            elif isinstance(ideal, dict):
                if ideal.get("dist") != "choice" or not isinstance(ideal.get("values"), list):
                    self.add(
                        path,
                        f"expected an option or {{dist: choice, values: [...]}}, "
                        f"got {short_repr(ideal)}",
                    )
                else:
                    try:
                        parse_dist(ideal)
                    except ValueError as exc:
                        self.add(path, str(exc))
                        continue
                    for j, v in enumerate(ideal["values"]):
                        self.option(f"{path}.values[{j}]", cl, v)
            else:
                self.option(path, cl, ideal)
        for cid, utils in a.utility.items():
            cl = self.clause(f"{p}.utility.{cid}", cid)
            if cl is None:
                continue
            if cl.kind != UNORDERED:
                self.add(
                    f"{p}.utility.{cid}",
                    f"utility per option is for unordered clauses; this one is {cl.kind} (give an ideal)",
                )
                continue
            for opt in utils:
                self.option(f"{p}.utility.{cid}.{opt}", cl, opt)
        for cid, opts in a.red_lines.items():
            cl = self.clause(f"{p}.red_lines.{cid}", cid)
            if cl is not None:
                for j, opt in enumerate(opts):
                    self.option(f"{p}.red_lines.{cid}[{j}]", cl, opt)
        total = 0.0
        for other, w in a.ties.items():
            if other == aid:
                self.add(f"{p}.ties.{other}", "an actor cannot tie to itself")
            else:
                self.actor(f"{p}.ties.{other}", other)
            total += w.support[1] if isinstance(w, Dist) else w
        if total > 1 + 1e-9:
            self.add(f"{p}.ties", f"expected tie weights summing to at most 1, got {total:g}")
        if a.troops is not None:
            self.check_troops(f"{p}.troops", aid, a.troops)

    def check_troops(self, p: str, aid: str, t: Any) -> None:
        for field in ("min_option", "max_option"):
            for cid, opt in getattr(t, field).items():
                cl = self.clause(f"{p}.{field}.{cid}", cid)
                if cl is None:
                    continue
                if cl.kind == UNORDERED:
                    self.add(f"{p}.{field}.{cid}", "an unordered clause has no order; use accepts")
                else:
                    self.option(f"{p}.{field}.{cid}", cl, opt)
        for cid, opts in t.accepts.items():
            cl = self.clause(f"{p}.accepts.{cid}", cid)
            if cl is not None:
                for j, opt in enumerate(opts):
                    self.option(f"{p}.accepts.{cid}[{j}]", cl, opt)
        for field in ("partners_required", "partners_refused"):
            for j, other in enumerate(getattr(t, field)):
                if other == aid:
                    self.add(f"{p}.{field}[{j}]", "an actor cannot name itself as a partner")
                else:
                    self.actor(f"{p}.{field}[{j}]", other)

    def check_force(self) -> None:
        f = self.spec.force
        if f.host is not None:
            self.actor("force.host", f.host)
        for j, r in enumerate(f.refused):
            self.actor(f"force.refused[{j}]", r)
        if f.lead_clause is None:
            if isinstance(f.may_lead, dict):
                self.add(
                    "force.may_lead",
                    "a mapping by option needs force.lead_clause; otherwise give a list of actors",
                )
                return
            for j, aid in enumerate(f.may_lead):
                self.actor(f"force.may_lead[{j}]", aid)
            return
        cl = self.clause("force.lead_clause", f.lead_clause)
        if cl is None:
            return
        if not isinstance(f.may_lead, dict):
            self.add(
                "force.may_lead",
                f"expected a mapping from each option of '{cl.id}' to the actors that may lead under it",
            )
            return
        for opt, ids in f.may_lead.items():
            self.option(f"force.may_lead.{opt}", cl, opt)
            for j, aid in enumerate(ids):
                self.actor(f"force.may_lead.{opt}[{j}]", aid)

    def check_negotiation(self) -> None:
        n = self.spec.negotiation
        if n.protocol not in PROTOCOLS:
            self.add(
                "negotiation.protocol",
                f"expected one of {', '.join(PROTOCOLS)}, got {n.protocol!r}",
            )
        for cid, opt in n.opening_draft.items():
            cl = self.clause(f"negotiation.opening_draft.{cid}", cid)
            if cl is not None:
                self.option(f"negotiation.opening_draft.{cid}", cl, opt)
        if len(self.clauses) == len(self.spec.clauses):
            actors, clauses = len(self.spec.actors), len(self.clauses)
            options = sum(cl.size for cl in self.clauses.values())
            work = actors * clauses * max(n.enumerate_limit, options)
            if work > MAX_WORK:
                path = "negotiation.enumerate_limit" if n.enumerate_limit > options else "clauses"
                self.add(
                    path,
                    f"expected a scenario of working size at most {MAX_WORK:,} (actors x clauses "
                    f"x the larger of enumerate_limit and all options, about 1 GB), got "
                    f"{actors} x {clauses} x {max(n.enumerate_limit, options):,} = {work:,}",
                )
        lo, hi = n.withdraw_threshold, n.tabling_threshold
        if not isinstance(lo, Dist) and not isinstance(hi, Dist) and lo > hi:
            self.add(
                "negotiation.withdraw_threshold",
                f"expected at most tabling_threshold ({hi:g}), got {lo:g}",
            )

    def options_map(self, path: str, choices: dict[str, Any], many: bool = False) -> None:
        """Check {clause: option} (or {clause: [options]} with ``many``)."""
        for cid, value in choices.items():
            cl = self.clause(f"{path}.{cid}", cid)
            if cl is None:
                continue
            values = value if isinstance(value, list) else [value]
            if many and not isinstance(value, list):
                self.add(f"{path}.{cid}", f"expected a list of options, got {short_repr(value)}")
                continue
            for j, opt in enumerate(values):
                self.option(f"{path}.{cid}[{j}]" if isinstance(value, list) else f"{path}.{cid}",
                            cl, opt)  # fmt: skip

    def check_groups(self) -> None:
        members = set(self.spec.council.members)
        for gid, g in self.spec.groups.items():
            self.duplicates(f"groups.{gid}.members", g.members)
            for j, m in enumerate(g.members):
                if m not in members:
                    self.add(f"groups.{gid}.members[{j}]", f"expected a Council member, got {m!r}")

    def check_bodies(self) -> None:
        for bid, body in self.spec.bodies.items():
            self.duplicates(f"bodies.{bid}.members", body.members)
            for j, m in enumerate(body.members):
                self.actor(f"bodies.{bid}.members[{j}]", m)
            self.options_map(f"bodies.{bid}.rejects", body.rejects, many=True)

    def check_rules(self) -> None:
        for i, rule in enumerate(self.spec.rules):
            p = f"rules[{i}]"
            if not rule.when:
                self.add(f"{p}.when", "expected at least one clause: option")
            if not rule.require:
                self.add(f"{p}.require", "expected at least one clause and what it must be")
            self.options_map(f"{p}.when", rule.when)
            for cid, need in rule.require.items():
                path = f"{p}.require.{cid}"
                if not isinstance(need, dict):
                    self.options_map(f"{p}.require", {cid: need})
                    continue
                cl = self.clause(path, cid)
                if cl is None:
                    continue
                bad = sorted(set(need) - {"at_least", "at_most"})
                if bad or not need:
                    self.add(
                        path, f"expected at_least and/or at_most, got {', '.join(bad) or 'nothing'}"
                    )
                    continue
                if cl.kind == UNORDERED:
                    self.add(path, "an unordered clause has no order; list the options instead")
                    continue
                for key, opt in need.items():
                    self.option(f"{path}.{key}", cl, opt)

    def check_observed(self) -> None:
        o = self.spec.observed
        if o is None:
            return
        c = self.spec.council
        for m in o.votes:
            if m not in c.members:
                self.add(f"observed.votes.{m}", f"expected a Council member, got {m!r}")
        for j, v in enumerate(o.vetoed_by):
            if v not in c.veto:
                self.add(f"observed.vetoed_by[{j}]", f"expected a permanent member, got {v!r}")
            elif o.votes and o.votes.get(v) != "no":
                self.add(
                    f"observed.vetoed_by[{j}]",
                    f"{v} vetoed, but observed.votes gives it {o.votes.get(v)!r}",
                )
        if (o.outcome == "vetoed") != bool(o.vetoed_by):
            self.add(
                "observed.vetoed_by",
                f"expected the vetoing members exactly when the outcome is vetoed (outcome {o.outcome})",
            )
        self.options_map("observed.text", o.text)
        for j, t in enumerate(o.troops):
            self.actor(f"observed.troops[{j}].actor", t.actor)
        if (
            o.votes
            and set(o.votes) == set(c.members)
            and o.outcome in ("adopted", "vetoed", "failed")
        ):
            yes = sum(v == "yes" for v in o.votes.values())
            noes = [m for m in c.veto if o.votes.get(m) == "no"]
            # Council practice: a permanent member's no on a draft short of the votes it needs
            # is not counted as a veto; the draft fails.
            rule = "failed" if yes < c.votes_needed else "vetoed" if noes else "adopted"
            if rule != o.outcome:
                self.add(
                    "observed.outcome",
                    f"the recorded votes ({yes} yes, {c.votes_needed} needed, no from a "
                    f"permanent member: {', '.join(noes) or 'none'}) make it {rule}, "
                    f"got {o.outcome}",
                )


def _step(cl: ClauseDef) -> str:
    """A scale's step as written (its first two values apart)."""
    if cl.values is None or len(cl.values) < 2:
        return "0"
    return f"{cl.values[1] - cl.values[0]:g}"
