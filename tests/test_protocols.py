"""Protocols: hand-worked results on minimal.yaml, the exact compromise mean, a 3-actor
expected-utility round computed independently, and every protocol on every scenario."""

import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.model.protocols import REGISTRY
from sim.model.protocols.compromise import compromise_text, weighted_mean_position
from sim.model.protocols.expected_utility import EUConfig, eu_round
from sim.model.simulate import make_model, run
from sim.scenario.compiled import load_scenario

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


def hand_round(x, c, s, q, t, perceived):
    """One round of the paper's model in plain scalar arithmetic (independent of sim)."""
    n = len(x)
    w = [c[i] * s[i] for i in range(n)]
    mu = sum(w[i] * x[i] for i in range(n)) / sum(w)

    def prob(i, j):
        v = [w[k] * (abs(x[k] - x[j]) - abs(x[k] - x[i])) for k in range(n)]
        return sum(max(a, 0) for a in v) / sum(abs(a) for a in v)

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
    big_r = [(2 * sec - hi - lo) / (hi - lo) for sec in security]
    r = [(1 - b / 3) / (1 + b / 3) for b in big_r]
    new = list(x)
    for j in range(n):
        moves = []
        for i in range(n):
            if i == j:
                continue
            ui = eu(i, j, r[j] if perceived else r[i])
            uj = eu(j, i, r[j])
            if ui <= 0:
                continue
            if uj > 0:
                if uj < ui:
                    moves.append(x[i])
            elif abs(uj) >= ui:
                moves.append(x[i])
            else:
                moves.append(x[j] + (x[i] - x[j]) * abs(uj) / ui)
        if moves:
            new[j] = min(moves, key=lambda m: abs(m - x[j]))
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
