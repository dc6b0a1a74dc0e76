"""Protocols: hand-worked results on minimal.yaml, the exact compromise mean, a 3-actor
expected-utility round computed independently, and every protocol on every scenario."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.model.protocols import REGISTRY
from sim.model.protocols.compromise import compromise_text, weighted_mean_position
from sim.model.protocols.expected_utility import EUConfig, eu_round
from sim.model.simulate import make_model, run
from sim.scenario.compiled import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def minimal():
    return load_scenario(ROOT / "scenarios" / "minimal.yaml")


def test_compromise_on_minimal_by_hand(minimal):
    # mandate: weights c*s = E .5, P .5, Q .5, T .3; ideals 1, .5, .5, 1 ->
    # mean 1.3 / 1.8 = .722, nearest option .5 = endorses. lead: regional scores
    # .5*1 + .5*.6 = .8 > un .5*0 + .5*1 = .5. P: U = 1 - .5*.4 = .8 < status quo .9 by .1,
    # inside band + veto cost .3 -> abstains; E (.75 > .4) and Q (1 > .3) vote yes.
    r = run(minimal, seed=1, protocol="compromise")
    assert r.text == {"mandate": "endorses", "lead": "regional"}
    assert r.outcome == "adopted" and r.rounds == 1
    assert r.votes == {"P": "abstain", "E": "yes", "Q": "yes"}


def test_compromise_is_the_weighted_mean_exactly():
    rng = np.random.default_rng(3)
    ideal, sal, cap = rng.random((7, 3)), rng.random((7, 3)), rng.random(7)
    expected = [(cap * sal[:, c] * ideal[:, c]).sum() / (cap * sal[:, c]).sum() for c in range(3)]
    assert weighted_mean_position(ideal, sal, cap).tolist() == pytest.approx(expected, rel=1e-15)
    positions = np.tile(np.linspace(0, 1, 101), (3, 1))
    text = compromise_text(ideal, np.zeros((7, 3, 101)), sal, cap, positions, np.zeros(3, bool),
                           np.ones((3, 101), bool), np.zeros(3, int))  # fmt: skip
    assert text.tolist() == [round(e * 100) for e in expected]
    # a clause nobody weighs has no mean (NaN), whatever its positions
    none = sal.copy()
    none[:, 1] = 0.0
    got = weighted_mean_position(ideal, none, cap)
    assert np.isnan(got[1]) and got[[0, 2]].tolist() == pytest.approx(np.array(expected)[[0, 2]])
    # the mean is a ratio: weights scaled far below 1 give the same positions and text
    small = sal * 0.01
    assert weighted_mean_position(ideal, small, cap).tolist() == pytest.approx(expected, rel=1e-12)
    text = compromise_text(ideal, np.zeros((7, 3, 101)), small, cap, positions, np.zeros(3, bool),
                           np.ones((3, 101), bool), np.full(3, 7))  # fmt: skip
    assert text.tolist() == [round(e * 100) for e in expected]


def test_expected_utility_on_minimal_by_hand(minimal):
    # mandate: E (1.0) and P (0.5) each capitulate to the other every round, Q (.5) and
    # T (1.0) move to nobody's offer: the weighted mean stays 1.3/1.8 -> endorses; the
    # unordered lead clause takes the compromise option (regional). Positions never
    # settle, so the draft is tabled at the deadline (max_rounds 5).
    m = make_model(minimal, 1, protocol="expected-utility")
    r = m.run()
    assert r.text == {"mandate": "endorses", "lead": "regional"}
    assert r.outcome == "adopted" and r.rounds == 5
    np.testing.assert_allclose(m.protocol.x[0], [0.5, 1.0, 0.5, 1.0])  # E, P swapped 5 times


def hand_round(x, c, s, q, t, perceived, rule="share", choose="least", draws=None):
    """One round of the paper's model in plain scalar arithmetic (independent of sim).
    ``rule``: the share of votes (share) or the net vote (net) as the chance of prevailing;
    ``choose``: the offer that moves the target least (least) or the challenger with the
    largest expected utility (best); ``draws`` (n x n uniforms): a lottery decides conflicts,
    the target losing to challenger i when ``draws[i][j]`` < P(i prevails)."""
    n = len(x)
    w = [c[i] * s[i] for i in range(n)]
    mu = sum(w[i] * x[i] for i in range(n)) / sum(w)

    def prob(i, j):
        v = [w[k] * (abs(x[k] - x[j]) - abs(x[k] - x[i])) for k in range(n)]
        total = sum(abs(a) for a in v)  # 0 when i and j hold the same position
        top = sum(max(a, 0) for a in v) if rule == "share" else max(sum(v), 0)
        return top / total if total else 0.0

    def eu(i, j, r):  # i challenges j, judged with exponent r
        def u(b):
            return 2 - 4 * b**r

        d, dm, p = abs(x[i] - x[j]), abs(x[i] - mu), prob(i, j)
        us, uf = u(0.5 - 0.5 * d), u(0.5 + 0.5 * d)
        ub, uw = u(0.5 - 0.25 * (dm + d)), u(0.5 + 0.25 * (dm + d))
        return (s[j] * (p * us + (1 - p) * uf) + (1 - s[j]) * us - q * u(0.5)
                - (1 - q) * (t * ub + (1 - t) * uw))  # fmt: skip

    security = [sum(eu(j, i, 1.0) for j in range(n) if j != i) for i in range(n)]
    hi, lo = max(security), min(security)
    big_r = [(2 * sec - hi - lo) / (hi - lo) if hi > lo else 0.0 for sec in security]
    r = [(1 - b / 3) / (1 + b / 3) for b in big_r]
    new = list(x)
    for j in range(n):
        moves = []  # (where j would move, the challenger's expected utility)
        for i in range(n):
            if i == j or abs(x[i] - x[j]) <= 1e-12:
                continue
            ui = eu(i, j, r[j] if perceived else r[i])
            uj = eu(j, i, r[j])
            if ui <= 0:
                continue
            if uj > 0:  # conflict: j moves to i's position if it loses
                loses = uj < ui if draws is None else draws[i][j] < prob(i, j)
                if loses:
                    moves.append((x[i], ui))
            elif abs(uj) >= ui:  # capitulation
                moves.append((x[i], ui))
            else:  # compromise
                moves.append((x[j] + (x[i] - x[j]) * abs(uj) / ui, ui))
        if moves and choose == "least":
            new[j] = min(moves, key=lambda m: abs(m[0] - x[j]))[0]
        elif moves:
            new[j] = max(moves, key=lambda m: m[1])[0]
    return new


@pytest.mark.parametrize("perceived", [True, False])
@pytest.mark.parametrize(("q", "t"), [(1.0, 1.0), (0.5, 1.0), (0.5, 0.0)])
def test_expected_utility_three_actors_one_issue(perceived, q, t):
    x, c, s = [0.0, 0.4, 1.0], [1.0, 0.6, 0.8], [0.9, 0.5, 0.7]
    cfg = EUConfig(perspective="perceived" if perceived else "own", q=q, t=t)
    got = eu_round(np.array([x]), np.array([c]), np.array([s]), np.ones((1, 3), bool), cfg)
    want = hand_round(x, c, s, q, t, perceived)
    np.testing.assert_allclose(got[0], want, atol=1e-12)
    assert not np.allclose(want, x)  # the example does move someone


@pytest.mark.parametrize("lottery", [False, True])
@pytest.mark.parametrize(("rule", "choose"), [("share", "least"), ("net", "least"),
                                              ("share", "best"), ("net", "best")])  # fmt: skip
def test_expected_utility_rounds_under_each_choice_the_paper_leaves_open(rule, choose, lottery):
    """Five actors on two issues at once (a batch), every variant of EUConfig against the
    scalar round: the chance of prevailing, whose offer is taken, and a lottery for conflicts
    (its draws taken from the same seeded generator)."""
    xs = [[0.0, 0.3, 0.45, 0.8, 1.0], [0.2, 0.25, 0.6, 0.9, 0.1]]
    c, s = [1.0, 0.5, 0.8, 0.3, 0.9], [0.9, 0.6, 0.4, 0.8, 0.5]
    cfg = EUConfig(prob=rule, choose=choose, conflict="lottery" if lottery else "deterministic",
                   q=0.7, t=0.4)  # fmt: skip
    draws = np.random.default_rng(11).random((2, 5, 5)) if lottery else None
    got = eu_round(np.array(xs), np.array([c, c]), np.array([s, s]), np.ones((2, 5), bool), cfg,
                   np.random.default_rng(11) if lottery else None)  # fmt: skip
    for b, x in enumerate(xs):
        want = hand_round(x, c, s, cfg.q, cfg.t, True, rule, choose,
                          None if draws is None else draws[b])  # fmt: skip
        np.testing.assert_allclose(got[b], want, atol=1e-12)
        assert not np.allclose(want, x)


def test_the_variants_give_different_rounds():
    """The variants above are not all the same round in disguise: each choice changes where
    someone moves in this example (so a variant silently ignored would fail there)."""
    x, c, s = [0.0, 0.3, 0.45, 0.8, 1.0], [1.0, 0.5, 0.8, 0.3, 0.9], [0.9, 0.6, 0.4, 0.8, 0.5]
    base = hand_round(x, c, s, 0.7, 0.4, True)
    assert hand_round(x, c, s, 0.7, 0.4, True, rule="net") != base
    assert hand_round(x, c, s, 0.7, 0.4, True, choose="best") != base
    draws = np.random.default_rng(11).random((5, 5))
    assert hand_round(x, c, s, 0.7, 0.4, True, draws=draws) != base


def test_challenge_expected_utility_elementwise_by_hand():
    """The paper's E^i U_ij at scattered points, with risk exponents other than 1 and every
    term of the formula (the status quo's chance q below 1, t between 0 and 1)."""
    from sim.model.protocols.expected_utility import challenge_eu

    rng = np.random.default_rng(5)
    d, dm, st, p, r = rng.random((5, 1, 4, 4))
    r = 0.5 + r  # exponents from 0.5 to 1.5
    for q, t in [(0.3, 0.6), (1.0, 0.2)]:
        got = challenge_eu(d, dm, st, p, r, q, t)

        def u(b, r):
            return 2 - 4 * max(b, 0.0) ** r

        for i, j in np.ndindex(4, 4):
            a, m, sj, pj, rj = d[0, i, j], dm[0, i, j], st[0, i, j], p[0, i, j], r[0, i, j]
            want = (sj * (pj * u(0.5 - a / 2, rj) + (1 - pj) * u(0.5 + a / 2, rj))
                    + (1 - sj) * u(0.5 - a / 2, rj) - q * u(0.5, rj)
                    - (1 - q) * (t * u(0.5 - (m + a) / 4, rj) + (1 - t) * u(0.5 + (m + a) / 4, rj)))  # fmt: skip
            assert got[0, i, j] == pytest.approx(want, abs=1e-12)


def test_success_probability_and_weighted_mean_by_hand():
    from sim.model.protocols.expected_utility import success_probability, weighted_mean

    # positions 0, .5, 1 with weights 1, 2, 3: P(0 over 1): voter 0 gains 1 (weight 1), voter
    # .5 is indifferent, voter 1 loses 1 (weight 3): share 1 / 4, net max(1 - 3, 0) / 4 = 0
    x, w = np.array([[0.0, 0.5, 1.0]]), np.array([[1.0, 2.0, 3.0]])
    share, net = success_probability(x, w), success_probability(x, w, "net")
    assert share[0, 0, 2] == pytest.approx(0.25) and net[0, 0, 2] == 0.0
    assert share[0, 2, 0] == pytest.approx(0.75) and net[0, 2, 0] == pytest.approx(0.5)
    # 0.5 over 1: voter 0 gains .5 (x1), voter .5 gains .5 (x2), voter 1 loses .5 (x3): 1.5 / 3
    assert share[0, 1, 2] == pytest.approx(0.5) and net[0, 1, 2] == 0.0
    assert share[0, 1, 1] == 0.0 and net[0, 1, 1] == 0.0  # no contest with oneself
    # weighted means row by row; weights that sum below 1 still count, no weight is NaN
    got = weighted_mean(np.array([[0.0, 1.0], [0.2, 0.6], [0.3, 0.9]]),
                        np.array([[1.0, 3.0], [0.1, 0.1], [0.0, 0.0]]))  # fmt: skip
    assert got[:2].tolist() == pytest.approx([0.75, 0.4]) and np.isnan(got[2])


@pytest.mark.parametrize("protocol", ["compromise", "expected-utility"])
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_protocol_runs_every_bundled_scenario(path, protocol):
    r = run(load_scenario(path), seed=1, protocol=protocol)
    assert r.protocol == protocol and r.outcome in {"adopted", "vetoed", "failed",
                                                     "withdrawn", "no_agreement"}  # fmt: skip


RESULT_KEYS = {  # the run record (`stabsim run --json`), field by field, with its JSON types
    "scenario": str, "seed": int, "protocol": str, "outcome": str, "rounds": int,
    "text": dict, "opening": dict, "draft": dict, "adopted_draft_by": str, "vetoed_by": list,
    "tally": dict, "votes": dict, "voting_coalition": list, "drafts": list, "coalition": list,
    "kept_out": list, "host_consent": bool, "lead": str, "pledged_troops": int,
    "delivered_troops": int, "troops_required": int, "viable": bool, "coalition_stable": bool,
    "path": list, "params": dict, "why": dict,
}  # fmt: skip
DRAFT_KEYS = {"by", "text", "adopted", "vetoed_by", "tally", "votes", "p_adopt"}
ROUND_KEYS = {"round", "text", "p_adopt", "intentions", "demands", "changed", "amendments"}
CONTRIBUTION_KEYS = {"actor", "pledged", "delivered", "lead"}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_protocol_writes_the_same_run_record(minimal, name):
    """Whatever the protocol, `run --json` gives the record above: every field with its type,
    the nested drafts, rounds and contributions with theirs, texts over the scenario's clauses
    and votes over its members (an adopted run of the minimal case fills every field)."""
    r = json.loads(run(minimal, seed=2, protocol=name).to_json())
    assert set(r) == set(RESULT_KEYS)
    for key, kind in RESULT_KEYS.items():
        assert isinstance(r[key], kind), (key, r[key])
    assert r["protocol"] == name and r["outcome"] == "adopted" and r["seed"] == 2
    for text in (r["text"], r["opening"], r["draft"], *(d["text"] for d in r["drafts"])):
        assert set(text) == {"mandate", "lead"}
        assert text["mandate"] in ("welcomes", "endorses", "authorizes")
        assert text["lead"] in ("regional", "un")
    assert set(r["votes"]) == {"P", "E", "Q"} and set(r["tally"]) == {"yes", "abstain", "no"}
    assert r["drafts"] and all(set(d) == DRAFT_KEYS for d in r["drafts"])
    assert r["path"] and all(set(p) == ROUND_KEYS for p in r["path"])
    assert [p["round"] for p in r["path"]] == list(range(1, r["rounds"] + 1))
    assert r["coalition"] and all(set(c) == CONTRIBUTION_KEYS for c in r["coalition"])
    assert {"kind", "text"} <= set(r["why"])


def test_unknown_protocol_is_a_one_line_error(capsys):
    assert main(["run", str(ROOT / "scenarios" / "minimal.yaml"), "--protocol", "nash"]) == 2
    err = capsys.readouterr().err
    assert "expected one of" in err and "'nash'" in err and "Traceback" not in err


def test_every_protocol_a_file_may_name_has_a_class_and_no_more():
    """The names the scenario layer accepts and the classes the model registers are one list."""
    from sim.scenario.schema import PROTOCOLS

    assert set(REGISTRY) == set(PROTOCOLS) and all(REGISTRY[n].name == n for n in REGISTRY)


# --- the pure helpers the protocols build on, by hand ---------------------------------------


def test_weighted_median_is_the_first_position_holding_half_the_weight():
    from sim.model.protocols.expected_utility import weighted_median

    x = np.array([[0.9, 0.1, 0.5], [0.9, 0.1, 0.5], [0.9, 0.1, 0.5], [0.2, 0.8, 0.4]])
    w = np.array([[1, 1, 1], [1, 3, 1], [3, 1, 1], [1, 1, 2]], dtype=float)
    # in order .1 .5 .9: equal weights -> .5; 3 of 5 on .1 -> .1; cum 1, 2, 5 (half 2.5) -> .9;
    # last row in order .2 (1) .4 (2) .8 (1): cum 1, 3, 4 (half 2) -> .4
    assert weighted_median(x, w).tolist() == [0.5, 0.1, 0.9, 0.4]
    # exactly half the weight on the first position: it is the median; no weight never counts
    assert weighted_median(np.array([[0.3, 0.7]]), np.array([[1.0, 1.0]])).tolist() == [0.3]
    assert weighted_median(np.array([[0.1, 0.5, 0.9]]), np.array([[0.0, 0.0, 1.0]])).tolist() == [
        0.9
    ]


def test_the_first_penholders_concession_space_and_package_by_hand():
    from sim.model.protocols.penholder_v1 import concession_space, strongest_demands

    option_mask = np.array([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=bool)  # clause 1 has 3 options
    ordered = np.array([True, False])
    draft = np.array([1, 0])
    # demands: clause 0 -> option 3 (ordered: 1, 2 and 3 reachable), clause 1 -> option 2
    # (unordered: only the draft's 0 and the demanded 2)
    mask = concession_space(draft, np.array([0, 1]), np.array([3, 2]), option_mask, ordered)
    assert mask.tolist() == [[False, True, True, True], [True, False, True, False]]
    # a demand below the draft opens the options down to it
    mask = concession_space(draft, np.array([0]), np.array([0]), option_mask, ordered)
    assert mask.tolist() == [[True, True, False, False], [True, False, False, False]]

    # the strongest demand on each clause is granted; a clause nobody demands keeps the draft
    draft = np.array([0, 0, 0])
    package = strongest_demands(draft, np.array([0, 0, 2]), np.array([1, 2, 1]),
                                np.array([0.5, 0.7, 0.1]))  # fmt: skip
    assert package.tolist() == [2, 0, 1] and draft.tolist() == [0, 0, 0]
    package = strongest_demands(draft, np.array([0, 0]), np.array([2, 1]), np.array([0.9, 0.2]))
    assert package.tolist() == [2, 0, 0]
    # equal weights: the later demand wins, however many there are (a stable order: numpy's
    # default sort is not stable on arrays this long)
    weight = np.random.default_rng(2).integers(0, 3, 100).astype(float)  # many ties at 2
    package = strongest_demands(np.zeros(1, int), np.zeros(100, int), np.arange(100), weight)
    assert package.tolist() == [np.flatnonzero(weight == 2)[-1]]


def synthetic_deu(seed: int = 4, issues: int = 5, actors: int = 7):
    """A made-up DEU-shaped table (positions 0..100 with gaps, saliences, capabilities)."""
    from sim.experiments.deu import DeuData

    rng = np.random.default_rng(seed)
    position = rng.integers(0, 101, (issues, actors)).astype(float)
    position[rng.random((issues, actors)) < 0.2] = np.nan
    salience = rng.integers(0, 101, (issues, actors)).astype(float)
    return DeuData(
        source="synthetic", actors=("com", "ep", *(f"s{i}" for i in range(actors - 2))),
        proposal=np.arange(issues), issue=np.ones(issues, int),
        rule=tuple("Unan" if i % 2 else "QMV" for i in range(issues)),
        position=position, salience=salience, capability=rng.uniform(1, 10, actors),
        reference=np.full(issues, np.nan), outcome=rng.integers(0, 101, issues).astype(float),
    )  # fmt: skip


@pytest.mark.parametrize("protocol", ["compromise", "expected-utility"])
def test_the_batch_forecast_of_one_clause_issues_equals_full_model_runs(protocol):
    """`forecast_scale` (the batch the DEU III validation uses) tables what a full model of each
    issue tables; the same check as test_deu's, on made-up issues, so it runs without the data."""
    from sim.experiments import deu

    data = synthetic_deu()
    batch = deu.predict(data, protocol, runs=2)
    np.testing.assert_array_equal(batch, deu.predict_models(data, protocol, runs=2))
    assert len(np.unique(batch)) > 2  # the issues differ, so the check can fail


def hand_median(x, w):
    """The first position, in order, by which half the weight is reached."""
    total, cum = sum(w), 0.0
    for xi, wi in sorted(zip(x, w, strict=True), key=lambda a: a[0]):
        cum += wi
        if cum >= total / 2:
            return xi
    return None


@pytest.mark.parametrize("forecast", ["mean", "median"])
def test_the_expected_utility_forecast_plays_rounds_until_positions_settle(forecast):
    """eu_forecast against the scalar rounds of ``hand_round``: rounds until no one moves more
    than ``tol`` (at most ``rounds``), then the capability x salience weighted mean (or
    median) of the positions."""
    from sim.model.protocols.expected_utility import ExpectedUtilityProtocol, eu_forecast

    x, c, s = [0.1, 0.4, 1.0, 0.7], [1.0, 0.6, 0.8, 0.3], [0.9, 0.5, 0.7, 0.6]
    w = [ci * si for ci, si in zip(c, s, strict=True)]
    seen, forecasts = [], []
    for rounds in (1, 2, 10):
        cfg = EUConfig(rounds=rounds, forecast=forecast)
        want, played = list(x), 0
        while played < rounds:
            played += 1
            new = hand_round(want, c, s, cfg.q, cfg.t, True)
            settled = max(abs(a - b) for a, b in zip(new, want, strict=True)) <= cfg.tol
            want = new
            if settled:
                break
        if forecast == "mean":
            expected = sum(wi * xi for wi, xi in zip(w, want, strict=True)) / sum(w)
        else:
            expected = hand_median(want, w)
        got, pos, n = eu_forecast(np.array([x]), np.array([c]), np.array([s]),
                                  np.ones((1, 4), bool), cfg)  # fmt: skip
        assert n == played and got[0] == pytest.approx(expected, abs=1e-12)
        np.testing.assert_allclose(pos[0], want, atol=1e-12)
        batch = ExpectedUtilityProtocol(cfg).forecast_scale(
            np.array([x]), np.array([c]), np.array([s]), np.ones((1, 4), bool), [1, 2, 3]
        )
        assert batch.shape == (1, 3)
        assert batch[0].tolist() == pytest.approx([expected] * 3, abs=1e-12)
        seen.append(played)
        forecasts.append(expected)
    # with ten rounds allowed the positions settle (all at 0.1) after the sixth
    assert seen == [1, 2, 6] and forecasts[-1] == pytest.approx(0.1)
    # after two rounds the two forecasts differ: the median is the position 0.4, the mean 0.391
    assert forecasts[1] == (0.4 if forecast == "median" else pytest.approx(0.39097127, abs=1e-8))


def test_a_lottery_forecast_plays_each_run_with_its_own_generator():
    """With conflicts decided by lottery, forecast_scale plays each run seed's own draws: each
    column is one round of ``hand_round`` with that seed's uniforms."""
    from sim.model.protocols.expected_utility import ExpectedUtilityProtocol

    x, c, s = [0.0, 0.3, 0.45, 0.8, 1.0], [1.0, 0.5, 0.8, 0.3, 0.9], [0.9, 0.6, 0.4, 0.8, 0.5]
    cfg = EUConfig(conflict="lottery", rounds=1, q=0.7, t=0.4)
    seeds = [3, 4, 5]
    got = ExpectedUtilityProtocol(cfg).forecast_scale(
        np.array([x]), np.array([c]), np.array([s]), np.ones((1, 5), bool), seeds
    )
    w = [ci * si for ci, si in zip(c, s, strict=True)]
    want = []
    for seed in seeds:
        draws = np.random.default_rng(seed).random((1, 5, 5))[0]
        pos = hand_round(x, c, s, cfg.q, cfg.t, True, draws=draws)
        want.append(sum(wi * xi for wi, xi in zip(w, pos, strict=True)) / sum(w))
    assert got[0].tolist() == pytest.approx(want, abs=1e-12) and len(set(want)) > 1


def test_risk_exponents_by_hand_including_a_tie_in_security():
    """r_i = (1 - R_i / 3) / (1 + R_i / 3) with R_i = (2 S_i - max S - min S) / (max S - min
    S), S_i the sum of challenges' expected utility against i (r = 1); an actor not taking part
    counts for nobody and gets 1; when every active actor is equally secure, R = 0 and r = 1."""
    from sim.model.protocols.expected_utility import (
        risk_exponents,
        success_probability,
        weighted_mean,
    )  # fmt: skip

    def hand_r(x, c, s, q, t):
        n = len(x)
        w = [c[i] * s[i] for i in range(n)]
        mu = sum(w[i] * x[i] for i in range(n)) / sum(w)

        def prob(i, j):
            v = [w[k] * (abs(x[k] - x[j]) - abs(x[k] - x[i])) for k in range(n)]
            total = sum(abs(a) for a in v)
            return sum(max(a, 0) for a in v) / total if total else 0.0

        def eu(i, j):
            d, dm, p = abs(x[i] - x[j]), abs(x[i] - mu), prob(i, j)
            u = lambda b: 2 - 4 * b  # noqa: E731
            return (s[j] * (p * u(0.5 - d / 2) + (1 - p) * u(0.5 + d / 2)) + (1 - s[j])
                    * u(0.5 - d / 2) - q * u(0.5)
                    - (1 - q) * (t * u(0.5 - (dm + d) / 4) + (1 - t) * u(0.5 + (dm + d) / 4)))  # fmt: skip

        sec = [sum(eu(j, i) for j in range(n) if j != i) for i in range(n)]
        hi, lo = max(sec), min(sec)
        big = [(2 * a - hi - lo) / (hi - lo) if hi > lo else 0.0 for a in sec]
        return [(1 - b / 3) / (1 + b / 3) for b in big]

    cfg = EUConfig(q=0.7, t=0.4)
    cases = [([0.0, 0.3, 0.45, 0.8, 1.0], [1.0, 0.5, 0.8, 0.3, 0.9], [0.9, 0.6, 0.4, 0.8, 0.5]),
             ([0.45, 0.5, 0.55], [1.0, 0.6, 0.8], [0.3, 0.2, 0.4]),  # securities within 0.07
             ([0.2, 0.8], [1.0, 1.0], [0.5, 0.5])]  # a symmetric pair: equally secure  # fmt: skip
    for x, c, s in cases:
        xa, ca, sa = np.array([x]), np.array([c]), np.array([s])
        active = np.ones_like(xa, bool)
        w = ca * sa
        r = risk_exponents(xa, sa, success_probability(xa, w), active,
                           weighted_mean(xa, w)[:, None, None], cfg)  # fmt: skip
        np.testing.assert_allclose(r[0], hand_r(x, c, s, cfg.q, cfg.t), atol=1e-12)
    assert r[0].tolist() == [1.0, 1.0]
    # actor 2 inactive: the others' exponents are those of the four alone; its own is 1
    x, c, s = cases[0]
    xa, ca, sa = np.array([x]), np.array([c]), np.array([s])
    active = np.array([[True, True, False, True, True]])
    w = np.where(active, ca * sa, 0.0)
    r = risk_exponents(xa, sa, success_probability(xa, w), active,
                       weighted_mean(xa, w)[:, None, None], cfg)  # fmt: skip
    keep = [0, 1, 3, 4]
    want = hand_r([x[i] for i in keep], [c[i] for i in keep], [s[i] for i in keep], 0.7, 0.4)
    np.testing.assert_allclose(r[0, keep], want, atol=1e-12)
    assert r[0, 2] == 1.0


def test_actors_on_the_same_position_make_each_other_no_offer():
    """Two actors share a position: neither challenges the other (there is nothing to move),
    so each moves only on others' offers, as in the scalar round."""
    # (with t below 1/2 a challenge between two actors on the same spot would be worth
    # something: -(1 - q) |x - mu| (2t - 1) > 0; it is still no offer)
    x, c, s = [0.0, 0.45, 0.45, 1.0], [1.0, 0.5, 0.8, 0.9], [0.9, 0.6, 0.4, 0.5]
    cfg = EUConfig(q=0.3, t=0.4)
    got = eu_round(np.array([x]), np.array([c]), np.array([s]), np.ones((1, 4), bool), cfg)
    want = hand_round(x, c, s, cfg.q, cfg.t, True)
    np.testing.assert_allclose(got[0], want, atol=1e-12)
    assert want[1] != 0.45 or want[2] != 0.45  # someone on the shared position does move


def unordered_and_unweighed() -> Scenario:
    """The minimal case with E now preferring a UN lead (so the compromise lead, by weighted
    utility, is 'un', the second option) and a third clause nobody weighs (salience 0 for
    every actor), which the opening draft sets to its second option."""
    data = yaml.safe_load((ROOT / "scenarios" / "minimal.yaml").read_text())
    data["actors"]["E"]["utility"] = {"lead": {"regional": 0.0, "un": 1.0}}
    data["clauses"]["duration"] = {"label": "Duration", "kind": "ordered",
                                   "options": {"short": "Six months.", "long": "Two years."}}  # fmt: skip
    data["negotiation"]["opening_draft"] = {"duration": "long"}
    return Scenario.from_data(data)


@pytest.mark.parametrize("protocol", ["compromise", "expected-utility"])
def test_the_compromise_takes_the_weighted_utility_option_and_keeps_an_unweighed_clause(protocol):
    # lead: E (weight .5) un 1, regional 0; P (.5) un 1, regional .6; Q and T do not weigh it:
    # un scores 1.0 against regional .3. Duration: nobody weighs it, the opening draft's stays.
    # The mandate is the hand-worked 'endorses' (test_compromise_on_minimal_by_hand).
    r = run(unordered_and_unweighed(), seed=1, protocol=protocol)
    assert r.text == {"mandate": "endorses", "lead": "un", "duration": "long"}
    assert r.opening["duration"] == "long"
    changed = [p.changed for p in r.path]
    # the compromise is drafted in one round; the expected-utility positions never settle here
    # (E and P swap every round, test_expected_utility_on_minimal_by_hand), so every round moves
    assert changed == ([True] if protocol == "compromise" else [True] * 5)


def test_expected_utility_tables_when_positions_settle_and_says_which_rounds_moved():
    """On made-up one-clause issues the model tables the forecast in the round the positions
    settle (no one moves more than ``tol``), at the latest after ``rounds``; each round's record
    says whether anyone moved."""
    from sim.experiments import deu

    data, cfg = synthetic_deu(seed=1), EUConfig()  # issues settling after 3, 4 and 5 rounds
    seen = set()
    for k in range(len(data.outcome)):
        who = deu.participants(data, k)
        x = data.position[k, who][None, :] / 100.0
        c = (data.capability[who] / data.capability.max())[None, :]
        s = data.salience[k, who][None, :] / 100.0
        moved = []
        for _ in range(cfg.rounds):
            new = eu_round(x, c, s, np.ones_like(x, bool), cfg)
            moved.append(bool(np.abs(new - x).max() > cfg.tol))
            x = new
            if not moved[-1]:
                break
        r = make_model(deu.issue_scenario(data, k, "expected-utility"), 1).run()
        assert r.rounds == len(moved) and [p.changed for p in r.path] == moved, k
        seen.add(len(moved))
    assert len(seen) > 1 and min(seen) < cfg.rounds  # some issues settle early, some do not


@pytest.mark.parametrize("choose", ["least", "best"])
def test_an_actor_not_taking_part_neither_moves_nor_counts(choose):
    """With actor 2 inactive (no position or no salience on the issue), a round moves the
    others exactly as a round among them alone would, and leaves actor 2 where it was."""
    x, c, s = [0.0, 0.3, 0.45, 0.8, 1.0], [1.0, 0.5, 0.8, 0.3, 0.9], [0.9, 0.6, 0.4, 0.8, 0.5]
    active = np.array([[True, True, False, True, True]])
    cfg = EUConfig(choose=choose, q=0.7, t=0.4)
    got = eu_round(np.array([x]), np.array([c]), np.array([s]), active, cfg)[0]
    keep = [0, 1, 3, 4]
    want = hand_round([x[i] for i in keep], [c[i] for i in keep], [s[i] for i in keep],
                      cfg.q, cfg.t, True, choose=choose)  # fmt: skip
    np.testing.assert_allclose(got[keep], want, atol=1e-12)
    assert got[2] == x[2] and not np.allclose(want, [x[i] for i in keep])
    # and the round among all five is a different round (actor 2 would have counted)
    everyone = hand_round(x, c, s, cfg.q, cfg.t, True, choose=choose)
    assert not np.allclose([everyone[i] for i in keep], want)


def test_under_the_compromise_a_member_intends_no_on_a_text_across_its_red_line():
    """The minimal case's compromise is 'endorses, regional'; with P red-lining 'endorses', P
    intends (and casts) no on it, whatever the text is otherwise worth to it."""
    data = yaml.safe_load((ROOT / "scenarios" / "minimal.yaml").read_text())
    data["actors"]["P"]["red_lines"] = {"mandate": ["endorses"]}
    m = make_model(Scenario.from_data(data), 1, protocol="compromise")
    r = m.run()
    assert r.drafts[0].text == {"mandate": "endorses", "lead": "regional"}
    assert m.actors[Scenario.from_data(data).index["P"]].intention == "no"
    assert r.votes["P"] == "no" and r.outcome == "vetoed"


def test_expected_utility_with_only_unordered_clauses_takes_the_compromise_option():
    """No ordered or scale clause: nothing for the expected-utility rounds to move; the text is
    the compromise option of each unordered clause ('regional', as in the minimal case)."""
    data = yaml.safe_load((ROOT / "scenarios" / "minimal.yaml").read_text())
    del data["clauses"]["mandate"]
    for actor in data["actors"].values():
        actor.get("ideal", {}).pop("mandate", None)
        actor.get("salience", {}).pop("mandate", None)
        actor.get("troops", {}).pop("min_option", None)
    r = run(Scenario.from_data(data), seed=1, protocol="expected-utility")
    assert r.drafts[0].text == {"lead": "regional"}


def test_an_actor_with_no_salience_on_an_ordered_clause_takes_no_part_in_its_rounds():
    """The minimal case with T indifferent to the mandate (salience 0): the expected-utility
    protocol leaves T out of the mandate's rounds, exactly as eu_round with T inactive."""
    data = yaml.safe_load((ROOT / "scenarios" / "minimal.yaml").read_text())
    data["actors"]["T"]["salience"] = {"mandate": 0.0}
    m = make_model(Scenario.from_data(data), 1, protocol="expected-utility")
    proto = m.protocol
    assert proto.active[0].tolist() == [True, True, True, False]  # E, P, Q, T
    x0 = proto.x.copy()
    m.step()
    want = eu_round(x0, proto.c, proto.s, proto.active, proto.config, m.rng)
    np.testing.assert_allclose(proto.x, want)
    everyone = eu_round(x0, proto.c, proto.s, np.ones_like(proto.active), proto.config)
    assert not np.allclose(want, everyone)  # T taking part would change the round
