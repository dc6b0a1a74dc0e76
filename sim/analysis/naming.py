"""Parameters in words: a dotted path of the parameter catalogue (what ``--set``, ``--vary``,
``stabsim sensitivity`` and discovery address) as a reader says it.

Rule: the path's shape picks a phrase, and the result's ``labels`` (actor names, clause labels,
option words) fill it in: ``actors.FRA.salience.leadership`` is "France's salience on force
leadership", ``actors.RUS.status_quo`` "Russian Federation's value of no resolution",
``actors.IDN.troops.max`` "Indonesia's troop pledge", ``force.troops_required`` "troops the
force needs". An id the labels do not know stays an id; a shape this module does not know stays
the dotted path, so nothing is ever hidden. Charts and sentences use the words; terminal tables
may add the path, which is what a user types.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.analysis.folders import ClauseLabels, Labels

# actors.X.<field>: "X's <words>"
ACTOR_FIELDS = {
    "capability": "weight in the talks",
    "status_quo": "value of no resolution",
    "flexibility": "flexibility",
    "sovereignty": "deference to the host's objection",
    "audience": "wish to put a veto on record",
    "name": "name",
    "vote.noise": "vote noise",
    "vote.abstain_band": "abstention band",
    "vote.veto_cost": "cost of casting a veto",
    "troops.max": "troop pledge",
    "troops.delivery": "share of pledged troops delivered",
    "troops.willingness": "willingness to send troops",
    "troops.solidarity": "solidarity with a strong force",
    "troops.requires_resolution": "need for a resolution before sending troops",
    "troops.lead_candidate": "readiness to lead the force",
    "troops.partners_required": "partners required to send troops",
    "troops.partners_refused": "partners it will not serve with",
}
# actors.X.<field>.<clause>: "X's <words> <clause>"
ACTOR_CLAUSE_FIELDS = {
    "salience": "salience on {clause}",
    "ideal": "ideal {clause}",
    "red_lines": "red lines on {clause}",
    "troops.min_option": "least {clause} it sends troops under",
    "troops.max_option": "most {clause} it sends troops under",
    "troops.accepts": "{clause} options its troops accept",
}
TOP_LEVEL = {
    "force.troops_required": "troops the force needs",
    "force.host": "the host",
    "force.refused": "contributors the host refuses",
    "force.lead_clause": "the clause that decides who leads",
    "force.may_lead": "who may lead the force",
    "negotiation.protocol": "the negotiation protocol",
    "negotiation.max_rounds": "rounds of negotiation before the deadline",
    "negotiation.tabling_threshold": "chance of adoption the penholder needs to table",
    "negotiation.withdraw_threshold": "chance of adoption below which the penholder withdraws",
    "negotiation.force_weight": "the penholder's weight on a viable force",
    "negotiation.pressure_weight": "weight of the deadline's pressure",
    "negotiation.rival_drafts": "whether rival drafts are put to the vote",
    "negotiation.enumerate_limit": "texts searched one by one",
    "behaviour.vote_noise": "vote noise (every member)",
    "behaviour.abstain_band": "abstention band (every member)",
    "behaviour.veto_cost": "cost of casting a veto (every permanent member)",
    "behaviour.elected_no_cost": "an elected member's reluctance to vote no",
    "behaviour.region_weight": "weight of regional bodies' stances",
    "behaviour.sovereignty_weight": "weight of the host's objection",
    "behaviour.audience_weight": "worth to a drafter of a veto on record",
    "behaviour.caucus_cohesion": "cohesion of caucuses",
    "behaviour.firmness": "the drafters' firmness (how late they concede)",
    "behaviour.patience": "the drafters' patience",
    "council.members": "the Council's members",
    "council.veto": "the members with a veto",
    "council.votes_needed": "votes needed to adopt",
    "council.penholder": "the penholder",
    "council.co_penholders": "the co-penholders",
    "council.absent": "members absent from the vote",
}


def possessive(name: str) -> str:
    """``France`` -> ``France's``; ``United States`` -> ``United States'``."""
    return name + ("'" if name.endswith("s") else "'s")


def clause_words(label: str) -> str:
    """A clause label inside a sentence: first letter lower case unless the first word is an
    acronym (``Force leadership`` -> ``force leadership``, ``UN command`` stays)."""
    first = label.split(" ", 1)[0]
    if not first or any(ch.isupper() for ch in first[1:]) or not first[0].isupper():
        return label
    return label[0].lower() + label[1:]


def _clause(labels: Labels | None, cid: str) -> ClauseLabels | None:
    if labels is None:
        return None
    return next((c for c in labels.clauses if c.id == cid), None)


def _clause_name(labels: Labels | None, cid: str) -> str:
    cl = _clause(labels, cid)
    return clause_words(cl.label) if cl else cid


def _actor(labels: Labels | None, aid: str) -> str:
    return labels.name(aid) if labels is not None else aid


def parameter_words(path: str, labels: Labels | None = None) -> str:
    """A catalogue path in words (the module's rule); an unknown shape stays the path."""
    parts = path.split(".")
    if path in TOP_LEVEL:
        return TOP_LEVEL[path]
    if len(parts) >= 3 and parts[0] == "actors":
        who = possessive(_actor(labels, parts[1]))
        rest = ".".join(parts[2:])
        if rest in ACTOR_FIELDS:
            return f"{who} {ACTOR_FIELDS[rest]}"
        for field, phrase in ACTOR_CLAUSE_FIELDS.items():
            n = field.count(".") + 1
            if ".".join(parts[2 : 2 + n]) == field and len(parts) == 3 + n:
                return f"{who} " + phrase.format(clause=_clause_name(labels, parts[-1]))
        if parts[2] == "utility" and len(parts) == 5:
            cl = _clause(labels, parts[3])
            option = cl.option(parts[4]) if cl else parts[4]
            return f"{who} utility of {option} ({_clause_name(labels, parts[3])})"
        if parts[2] == "ties" and len(parts) == 4:
            return f"{who} tie to {_actor(labels, parts[3])}"
    if len(parts) == 3 and parts[:2] == ["negotiation", "opening_draft"]:
        return f"the opening draft's {_clause_name(labels, parts[2])}"
    if len(parts) == 3 and parts[0] == "groups" and parts[2] == "cohesion":
        return f"cohesion of the {parts[1]} caucus"
    if len(parts) == 3 and parts[0] == "bodies" and parts[2] == "stance":
        return f"{possessive(parts[1])} stance"
    if len(parts) == 3 and parts[:2] == ["force", "may_lead"]:
        clauses = labels.clauses if labels is not None else ()
        lead = next((c for c in clauses if parts[2] in c.options), None)
        return f"who may lead the force under {lead.option(parts[2]) if lead else parts[2]}"
    return path


def _option_clause(path: str) -> str | None:
    """The clause whose option a path's value names, if it names one."""
    parts = path.split(".")
    if len(parts) == 4 and parts[0] == "actors" and parts[2] == "ideal":
        return parts[3]
    if len(parts) == 3 and parts[:2] == ["negotiation", "opening_draft"]:
        return parts[2]
    if len(parts) == 5 and parts[0] == "actors" and parts[2:4] in (["troops", "min_option"],
                                                                    ["troops", "max_option"]):  # fmt: skip
        return parts[4]
    return None


def number_words(x: float) -> str:
    """A parameter value: thousands separated when large, three significant figures else."""
    if isinstance(x, bool) or not math.isfinite(x):
        return str(x)
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def value_words(path: str, value: Any, labels: Labels | None = None) -> str:
    """A value set on ``path`` in words: an option as its label, a number as :func:`number_words`,
    a list joined by commas, actor ids as names where the path names actors."""
    cid = _option_clause(path)
    cl = _clause(labels, cid) if cid else None
    if isinstance(value, str):
        if cl is not None:
            return cl.option(value)
        try:
            return number_words(float(value))
        except ValueError:
            return _actor(labels, value) if labels and value in labels.actors else value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return cl.option(str(value).removesuffix(".0")) if cl else number_words(float(value))
    if isinstance(value, list | tuple):
        return ", ".join(value_words(path, v, labels) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {value_words(path, v, labels)}" for k, v in value.items())
    return str(value)


def setting_words(path: str, value: Any, labels: Labels | None = None) -> str:
    """``France's salience on force leadership is 0.2``."""
    return f"{parameter_words(path, labels)} is {value_words(path, value, labels)}"


def condition_words(bounds: Mapping[str, Any], labels: Labels | None = None) -> list[str]:
    """A discovery rule's bounds ``{path: [low, high]}`` as conditions in words, in path order:
    ``France's troop pledge > 500``, ``0.2 < ... <= 0.6``."""
    out = []
    for path, (lo, hi) in sorted(bounds.items()):
        words = parameter_words(path, labels)
        lo_ok = lo is not None and math.isfinite(lo)
        hi_ok = hi is not None and math.isfinite(hi)
        if lo_ok and hi_ok:
            out.append(f"{number_words(lo)} < {words} <= {number_words(hi)}")
        elif lo_ok:
            out.append(f"{words} > {number_words(lo)}")
        else:
            out.append(f"{words} <= {number_words(hi)}")
    return out
