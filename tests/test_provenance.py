"""Where a scenario's numbers come from: each number of the file counted once where it is
written, and classified by the comment on its line or on the nearest enclosing line."""

from __future__ import annotations

import pytest
import yaml

from sim.scenario.provenance import classify, of_manifest, provenance
from tests.conftest import BUNDLED, SCENARIOS

HAND = """\
# A header comment [R] is no line's comment.
name: hand-written
council:
  votes_needed: 9            # [R] Charter art. 27(3)
actors:
  A: &base
    capability: 0.3          # convention: elected member
    status_quo:              # [A] wants a text; size assumption
      {dist: triangular, low: 0.1, mode: 0.2, high: 0.4}
    flexibility: 0.2
    salience: {x: 0.5, y: 0.8}   # reported, see SC/15432
    ties:                    # S/RES/2803 (2025)
      B: 0.1
    note: "0.5 # [R] inside a string"
    vote: {noise: 0}         # the house view
  B:
    <<: *base                # assumption: as A
    troops: {max: 1000, lead_candidate: true}   # tuned
    sovereignty: 0.5         # usual stance: non-interference
    10: ten                  # a numeric key is a name, not a number
observed:
  troops:
    - {actor: B, pledged: 1500}   # [R] not an input
"""


def test_a_hand_written_file_is_counted_exactly():
    p = provenance(HAND)
    by_line = {(n.line, n.text): n.kind for n in p.numbers}
    assert by_line == {
        (4, "9"): "sourced",
        (7, "0.3"): "convention",
        (9, "0.1"): "assumption",
        (9, "0.2"): "assumption",
        (9, "0.4"): "assumption",
        (10, "0.2"): "unlabelled",
        (11, "0.5"): "sourced",
        (11, "0.8"): "sourced",
        (13, "0.1"): "sourced",
        (15, "0"): "unlabelled",
        (18, "1000"): "assumption",
        (19, "0.5"): "convention",
    }
    assert p.counts() == {"total": 12, "sourced": 4, "convention": 2, "assumption": 4,
                          "unlabelled": 2}  # fmt: skip


@pytest.mark.parametrize(("comment", "kind"), [
    ("[A] under consideration; size assumption", "assumption"),
    ("assumption: offered to take part (reported, autumn 2025)", "assumption"),
    ("convention: central (Lyall Grant, VOA 27 Jan; Hague, SC/10534)", "convention"),
    ("convention: mentioned / otherwise (assumption on which)", "assumption"),
    ("[R] Charter art. 27(3): permanent members", "sourced"),
    ("reported: 150 military police arrived", "sourced"),
    ("size from S/2013/119", "sourced"),
    ("S/PV.6711", "sourced"),
    ("size assumed", "assumption"),
    ("authorization until 31 December 2027", "unlabelled"),
    ("", "unlabelled"),
])  # fmt: skip
def test_comments_are_classified_by_the_stated_rule(comment, kind):
    assert classify(comment) == kind


def _numbers_by_tree(text: str) -> int:
    """Numbers counted independently: the composed YAML tree's numeric plain scalars that are
    values (each node once, so anchors count once), outside the observed block."""
    root = yaml.compose(text)
    seen: set[int] = set()

    def walk(node, count_it=True):
        if id(node) in seen:
            return 0
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            numeric = node.tag.endswith((":int", ":float")) and node.style is None
            return int(count_it and numeric)
        if isinstance(node, yaml.SequenceNode):
            return sum(walk(v) for v in node.value)
        return sum(walk(k, False) + walk(v) for k, v in node.value)

    return sum(walk(v) for k, v in root.value if k.value != "observed")


@pytest.mark.parametrize("path", [*BUNDLED, *sorted((SCENARIOS / "history").glob("*.yaml"))],
                         ids=lambda p: p.stem)  # fmt: skip
def test_every_number_of_the_bundled_files_is_counted_once(path):
    text = path.read_text()
    p = provenance(text)
    assert p.total == _numbers_by_tree(text)
    assert p.sourced + p.convention + p.assumption + p.unlabelled == p.total
    if path.parent.name == "history":  # written to docs/writing-a-case.md: every number labelled
        assert p.unlabelled <= 3 and p.convention > p.assumption


def test_gaza_is_mostly_assumptions():
    p = provenance((SCENARIOS / "gaza_isf_2025.yaml").read_text())
    assert p.assumption > 0.8 * p.total and p.sourced > 0
    # the scale clause's bounds have no comment
    assert {n.text for n in p.numbers if n.kind == "unlabelled"} == {"6", "36"}


def test_a_manifest_adds_the_files_it_extends():
    base = "force:\n  troops_required: 1000   # [R] the concept of operations\n"
    top = "extends: base.yaml\nnegotiation:\n  max_rounds: 4   # assumption\n"
    p = of_manifest({"text": top, "bases": [{"name": "base.yaml", "text": base}]})
    assert p is not None and p.counts() == {"total": 2, "sourced": 1, "convention": 0,
                                            "assumption": 1, "unlabelled": 0}  # fmt: skip
    assert of_manifest({"file": "x.yaml"}) is None and of_manifest(None) is None
    assert provenance("{unclosed: [").total == 0


def test_a_base_number_a_file_above_replaces_is_not_counted():
    """The runs use the what-if's value, not the base's: a distribution the top file fixes
    (three numbers) gives way to its one number; a list replaced whole takes its numbers with
    it; what the top file leaves alone still counts, and a chain is read from the top down."""
    base = (
        "actors:\n"
        "  A:\n"
        "    status_quo: {dist: triangular, low: 0.1, mode: 0.2, high: 0.4}   # assumption\n"
        "    capability: 0.3   # [R] S/PV.1\n"
        "    ties: [0.1, 0.2]   # assumption\n"
    )
    middle = "extends: base.yaml\nactors:\n  A:\n    ties: [0.5]   # convention\n"
    top = "extends: middle.yaml\nactors:\n  A:\n    status_quo: 0.5   # [R] reported\n"
    assert [n.path for n in provenance(base).numbers] == [
        "actors.A.status_quo.low", "actors.A.status_quo.mode", "actors.A.status_quo.high",
        "actors.A.capability", "actors.A.ties[0]", "actors.A.ties[1]",
    ]  # fmt: skip
    p = of_manifest({"text": top, "bases": [{"name": "base.yaml", "text": base},
                                            {"name": "middle.yaml", "text": middle}]})  # fmt: skip
    assert p is not None
    assert sorted((n.path, n.text, n.file) for n in p.numbers) == [
        ("actors.A.capability", "0.3", "base.yaml"),
        ("actors.A.status_quo", "0.5", ""),
        ("actors.A.ties[0]", "0.5", "middle.yaml"),
    ]
    assert p.counts() == {"total": 3, "sourced": 2, "convention": 1, "assumption": 0,
                          "unlabelled": 0}  # fmt: skip
