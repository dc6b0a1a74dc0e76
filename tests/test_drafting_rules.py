"""The drafting side's hard rules on small hand-made cases, under both penholder protocols: it
never drafts or tables a text crossing its own red lines, and it withdraws a draft that cannot
pass instead of negotiating to the deadline (docs/model.md, "One negotiation round").

Each case is the minimal teaching case (E holds the pen; P, the only veto holder; Q) with one
change, and each comes with a control: the same case without the rule's trigger, showing that
the text or the ending the rule forbids is otherwise reached."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import yaml

import sim
from sim.scenario.compiled import Scenario
from tests.conftest import SCENARIOS

PROTOCOLS = ["penholder", "penholder-v1"]
SEEDS = range(40)


def minimal() -> dict[str, Any]:
    data = yaml.safe_load((SCENARIOS / "minimal.yaml").read_text())
    for actor in ("E", "P", "Q"):
        data["actors"][actor]["vote"]["noise"] = 0.05  # votes vary from seed to seed
    data["negotiation"]["rival_drafts"] = False
    return data


# --- red lines ---------------------------------------------------------------------------------


def only_welcomes_passes(penholder_red_line: bool) -> dict[str, Any]:
    """P vetoes any mandate stronger than 'welcomes' (its red lines), so the only adoptable
    texts welcome the force. E, the penholder, values such a text above no resolution (mandate
    salience 0.2: U(welcomes, regional) = 0.8 > its status quo 0.4), so it would table one;
    with ``penholder_red_line`` 'welcomes' crosses E's own red line."""
    data = minimal()
    data["actors"]["P"]["red_lines"] = {"mandate": ["endorses", "authorizes"]}
    data["actors"]["P"]["status_quo"] = {"dist": "uniform", "low": 0.2, "high": 0.6}
    data["actors"]["E"]["salience"] = {"mandate": 0.2, "lead": 0.5}
    if penholder_red_line:
        data["actors"]["E"]["red_lines"] = {"mandate": ["welcomes"]}
    return data


def drafted_texts(r: sim.RunResult) -> list[dict[str, str]]:
    """Every text the penholder E put forward: each round's draft, its last draft and every
    draft it tabled."""
    return [rec.text for rec in r.path] + [r.draft] + [d.text for d in r.drafts if d.by == "E"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_penholder_never_drafts_across_its_own_red_line(protocol: str) -> None:
    scenario = Scenario.from_data(only_welcomes_passes(penholder_red_line=True))
    outcomes = Counter()
    for seed in SEEDS:
        r = sim.run(scenario, seed=seed, protocol=protocol)
        assert all(t["mandate"] != "welcomes" for t in drafted_texts(r)), (seed, r.path)
        assert r.text is None or r.text["mandate"] != "welcomes", seed
        outcomes[r.outcome, r.rounds] += 1
    # P's red lines block every other text, and the only text that could pass crosses E's own
    # line: nothing within E's reach can pass, so it withdraws in round 1 (it does not go on
    # negotiating towards a text it may not draft)
    # (the first protocol withdraws once its draft stops moving, before the deadline)
    assert sum(n for (o, k), n in outcomes.items() if o == "withdrawn" and k < 5) == len(SEEDS)
    if protocol == "penholder":
        assert outcomes == {("withdrawn", 1): len(SEEDS)}, outcomes


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_without_the_red_line_the_penholder_tables_the_welcoming_text(protocol: str) -> None:
    """The control: the text the red line forbids is the one the penholder otherwise tables."""
    scenario = Scenario.from_data(only_welcomes_passes(penholder_red_line=False))
    for seed in SEEDS:
        r = sim.run(scenario, seed=seed, protocol=protocol)
        assert r.drafts and r.drafts[0].by == "E" and r.drafts[0].text["mandate"] == "welcomes"
        assert r.outcome in ("adopted", "failed"), seed


@pytest.mark.parametrize("whose", ["penholder", "co-penholder"])
def test_an_opening_draft_across_a_drafting_red_line_is_moved_off_it(whose: str) -> None:
    """The file's opening draft (`negotiation.opening_draft`) sets a UN lead, which crosses a
    red line of the drafting side: E's own, or its co-penholder Q's on the option E itself likes
    best (E prefers a UN lead). The default protocol opens instead with the best text one or
    two clauses away that does not: a regional lead."""
    data = minimal()
    if whose == "penholder":
        data["actors"]["E"]["red_lines"] = {"lead": ["un"]}
    else:
        data["council"]["co_penholders"] = ["Q"]
        data["actors"]["Q"]["red_lines"] = {"lead": ["un"]}
        data["actors"]["E"]["utility"] = {"lead": {"regional": 0.0, "un": 1.0}}
    data["negotiation"]["opening_draft"] = {"lead": "un"}
    scenario = Scenario.from_data(data)
    for seed in range(10):
        r = sim.run(scenario, seed=seed, protocol="penholder")
        assert r.opening["lead"] == "regional" and r.path[0].text["lead"] == "regional"
        assert all(t["lead"] != "un" for t in drafted_texts(r))


# --- withdrawal --------------------------------------------------------------------------------


def nothing_passes(**negotiation: Any) -> dict[str, Any]:
    """P, the veto holder, has a red line on every option of the lead clause and likes no
    resolution best (status quo 1.0): it votes no on every text, so nothing can pass."""
    data = minimal()
    data["actors"]["P"].update(status_quo=1.0, red_lines={"lead": ["regional", "un"]})
    data["negotiation"].update(negotiation)
    return data


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_draft_that_cannot_pass_is_withdrawn_before_the_deadline(protocol: str) -> None:
    scenario = Scenario.from_data(nothing_passes())
    assert scenario.max_rounds == 5
    for seed in SEEDS:
        r = sim.run(scenario, seed=seed, protocol=protocol)
        assert r.outcome == "withdrawn", (seed, r.outcome, r.rounds)
        assert r.rounds < scenario.max_rounds and r.drafts == [] and r.tally == {}
    # the default protocol sees in round 1 that nothing within reach can pass; the first one
    # withdraws once the draft stops moving (it grants P's demands for two rounds first)
    expected = 1 if protocol == "penholder" else 3
    assert sim.run(scenario, seed=0, protocol=protocol).rounds == expected


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_with_no_round_left_a_hopeless_draft_ends_without_agreement(protocol: str) -> None:
    """The deadline branch: in the last round there is nothing to withdraw from; a draft worth
    no more than no resolution, with no chance of adoption, is not tabled."""
    scenario = Scenario.from_data(nothing_passes(max_rounds=1))
    for seed in range(10):
        r = sim.run(scenario, seed=seed, protocol=protocol)
        assert (r.outcome, r.rounds, r.drafts) == ("no_agreement", 1, []), seed


def test_a_veto_worth_having_on_the_record_is_tabled_not_withdrawn() -> None:
    """The default protocol's other branch of a hopeless draft: when its audience values the
    veto on the record (audience 1, weight 5: worth 0.4 + 5 x (U - 0.4) > 0.4), the drafting
    side tables the draft to be vetoed instead of withdrawing it."""
    data = nothing_passes()
    data["actors"]["E"]["audience"] = 1.0
    data["behaviour"] = {"audience_weight": 5.0}
    scenario = Scenario.from_data(data)
    for seed in range(20):
        r = sim.run(scenario, seed=seed, protocol="penholder")
        assert (r.outcome, r.rounds, r.vetoed_by) == ("vetoed", 1, ["P"]), seed
        assert r.drafts[0].by == "E" and r.why["kind"] == "on_record"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_draft_that_can_pass_is_not_withdrawn(protocol: str) -> None:
    """The control: lift P's red lines and lower its status quo, and the same draft passes."""
    data = nothing_passes()
    data["actors"]["P"].update(status_quo=0.5, red_lines={})
    scenario = Scenario.from_data(data)
    for seed in range(20):
        assert sim.run(scenario, seed=seed, protocol=protocol).outcome == "adopted", seed


# --- patience: holding the draft one round (Rubinstein) ----------------------------------------


def waiting_pays(patience: float, p_regional: float = 0.6) -> Scenario:
    """E (status quo 0.1, conceding early: firmness 20) could table 'endorses' now, which P and
    Q accept; or hold its ideal 'authorizes' one round while P (flexibility 0.9) softens toward
    it. Worth now, 'endorses, regional': U 0.5 x 0.5 + 0.5 x 1 = 0.75 plus force weight 0.3 x
    prospect 1 (T's 800 troops meet the requirement) = 1.05, adopted for sure. Next round,
    'authorizes, regional': 1.0 + 0.3 = 1.3, also adopted for sure once P has softened (P's
    mandate ideal 0.5 -> 0.95, its regional lead 0.6 -> 0.96: U 0.955 > its status quo 0.9).
    So E holds exactly when patience x 1.3 > 1.05, patience > 0.8077."""
    data = minimal()
    for actor in ("E", "P", "Q"):
        data["actors"][actor]["vote"]["noise"] = 0  # the chances above are exact
    data["actors"]["P"]["flexibility"] = 0.9
    data["actors"]["P"]["utility"] = {"lead": {"regional": p_regional, "un": 1.0}}
    data["actors"]["E"]["status_quo"] = 0.1
    data["behaviour"] = {"patience": patience, "firmness": 20}
    return Scenario.from_data(data)


@pytest.mark.parametrize(("patience", "holds"), [(0.0, False), (0.8, False), (0.82, True),
                                                 (0.99, True)])  # fmt: skip
def test_the_penholder_holds_its_draft_exactly_when_waiting_is_worth_more(
    patience: float, holds: bool
) -> None:
    r = sim.run(waiting_pays(patience), seed=1)
    assert r.outcome == "adopted"
    if holds:  # round 1 keeps the draft (not yet adoptable); P softens and adopts it in round 2
        assert [(p.text["mandate"], p.changed, p.p_adopt) for p in r.path] == [
            ("authorizes", False, 0.0), ("authorizes", False, 1.0)]  # fmt: skip
    else:  # it concedes at once
        assert [(p.text["mandate"], p.changed, p.p_adopt) for p in r.path] == [
            ("endorses", True, 1.0)]  # fmt: skip


def test_looking_ahead_the_penholder_counts_on_others_warming_to_an_unordered_option() -> None:
    """P values a regional lead at only 0.2: it takes 'authorizes, regional' next round only
    because softening raises that option's utility too (0.2 -> 0.92: U 0.5 x 0.95 + 0.5 x 0.92
    = 0.935 > 0.9), not only its position on the ordered mandate. E, foreseeing it, holds."""
    r = sim.run(waiting_pays(0.99, p_regional=0.2), seed=1)
    assert r.outcome == "adopted" and r.text == {"mandate": "authorizes", "lead": "regional"}
    assert [p.changed for p in r.path] == [False, False]


def test_each_members_intention_is_on_the_draft_as_it_stands() -> None:
    """P red-lines 'endorses' and 'authorizes' (only_welcomes_passes): on the opening draft,
    which authorizes, P intends no, whatever it thinks of the rest of the text."""
    scenario = Scenario.from_data(only_welcomes_passes(penholder_red_line=False))
    for seed in range(10):
        m = sim.make_model(scenario, seed)
        assert m.draft[0] == 2  # 'authorizes'
        m.step()
        assert m.actors[scenario.index["P"]].intention == "no", seed


# --- edges of the rules ------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_member_is_recorded_as_intending_no_on_a_draft_across_its_red_line(protocol: str) -> None:
    """P red-lines every lead option yet likes the rest (status quo 0.1: by its utility alone
    it would vote yes). Every round's record counts its intention as no."""
    data = nothing_passes()
    data["actors"]["P"]["status_quo"] = 0.1
    m = sim.make_model(Scenario.from_data(data), 1, protocol=protocol)
    m.run()
    assert m.path and all(rec.intentions["no"] >= 1 for rec in m.path)
    assert m.actors[m.scenario.index["P"]].intention == "no"


@pytest.mark.parametrize(("protocol", "rounds"), [("penholder", 4), ("penholder-v1", 1)])
def test_a_chance_exactly_at_the_tabling_threshold_is_tabled(protocol: str, rounds: int) -> None:
    """Votes without noise and a tabling threshold of 1: the draft is tabled in the round its
    chance of adoption reaches exactly 1 (the default protocol's fourth round, the worked
    example; the first protocol's first), not held to the deadline."""
    data = minimal()
    for actor in ("E", "P", "Q"):
        data["actors"][actor]["vote"]["noise"] = 0
    data["negotiation"]["tabling_threshold"] = 1.0
    r = sim.run(Scenario.from_data(data), seed=1, protocol=protocol)
    assert (r.outcome, r.rounds, r.path[-1].p_adopt) == ("adopted", rounds, 1.0)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_at_the_deadline_without_a_draft_to_table_the_model_says_no_agreement(
    protocol: str,
) -> None:
    m = sim.make_model(Scenario.from_data(nothing_passes(max_rounds=1)), 1, protocol=protocol)
    m.run()
    assert m.status == "no_agreement" and not m.running


def test_the_drafting_side_weighs_its_members_by_capability() -> None:
    """E and its co-penholder Q value a text by their capability-weighted utilities: weights
    0.3 / (0.3 + 0.1) and 0.1 / 0.4, whatever the capabilities sum to; with no capability at
    all, equally."""
    for caps, weights in [((0.3, 0.1), (0.75, 0.25)), ((0.0, 0.0), (0.5, 0.5))]:
        data = minimal()
        data["council"]["co_penholders"] = ["Q"]
        data["actors"]["E"]["capability"], data["actors"]["Q"]["capability"] = caps
        m = sim.make_model(Scenario.from_data(data), 1)
        assert m.protocol.weights.tolist() == pytest.approx(weights)


def test_under_the_first_protocol_others_soften_toward_the_draft_between_rounds() -> None:
    """penholder-v1, votes without noise, P flexible (0.9): in round 1 the draft it moves to,
    (endorses, regional), has no chance (P would veto); P then softens toward it, and in round
    2 the same draft is adopted for certain. (Without the softening it would stay at 0.)"""
    data = minimal()
    for actor in ("E", "P", "Q"):
        data["actors"][actor]["vote"]["noise"] = 0
    data["actors"]["E"]["status_quo"] = 0.8
    data["actors"]["P"]["flexibility"] = 0.9
    r = sim.run(Scenario.from_data(data), seed=1, protocol="penholder-v1")
    assert (r.outcome, r.rounds) == ("adopted", 2)
    assert [(p.text["mandate"], p.p_adopt) for p in r.path] == [
        ("endorses", 0.0),
        ("endorses", 1.0),
    ]
