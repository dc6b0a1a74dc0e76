"""Why a negotiation ended as it did, in a record and in words.

Rules (the model supplies the numbers; these functions pick and word them):

- adopted: the concession that won a vote: of the clauses the adopted text changed from the
  opening draft, the one whose return to the opening option would cost the most chance of
  adoption, and the member whose vote it would move most; "as opened" when no change
  mattered; a rival's adoption says whose draft it was;
- vetoed: each vetoing member's reason: a red line the text crosses (the first such clause),
  or, without one, the clause that costs it most against its ideal; "on the record" when the
  drafting side tabled it expecting the veto (chance of adoption below the withdrawal
  threshold);
- failed: the member whose vote decided: of those that did not vote yes, the one closest to
  yes (its chance of voting yes);
- withdrawn or no agreement: the binding obstacle on the last draft: the member whose red line
  it crosses (first found) or, without one, the member least likely to vote yes.
"""

from __future__ import annotations

from typing import Any

KINDS = ("as_opened", "concession", "rival", "red_line", "dislike", "on_record",
         "short_of_votes", "deadline", "no_prospect")  # fmt: skip


def reason(kind: str, sentence: str, actor: str | None = None, clause: str | None = None,
           option: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A reason as the run record keeps it (``option`` arrives as ``id|words``: the record
    keeps the id, the sentence already has the words)."""
    option_id = option.split("|", 1)[0] if option else None
    return {"kind": kind, "actor": actor, "clause": clause, "option": option_id, "text": sentence}


def _words(option: str | None) -> str | None:
    return option.split("|", 1)[-1] if option else None


def adopted(tally: str, by: str | None, penholder: str, clause: str | None, option: str | None,
            actor: str | None, label: str | None, name: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    if by is not None and by != penholder:
        return reason("rival", f"adopted {tally}: {name.get(by, by)}'s rival draft, after the "
                      "first failed", by)  # fmt: skip
    if clause is None or actor is None:
        return reason("as_opened", f"adopted {tally}: as the penholder opened it, or near it")
    return reason("concession", f"adopted {tally}: conceding {label} ({_words(option)}) won it, "
                  f"{name.get(actor, actor)}'s vote most of all", actor, clause, option)  # fmt: skip


def vetoed(actor: str, clause: str, option: str, label: str, red: bool, on_record: bool,
           name: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    o = _words(option)
    why = (f"the text crosses its red line on {label} ({o})" if red
           else f"the text is worse for it than no resolution, most of all on {label} ({o})")  # fmt: skip
    who = name.get(actor, actor)
    if on_record:
        return reason("on_record", f"vetoed by {who}: tabled to put the veto on the record; "
                      f"{why}", actor, clause, option)  # fmt: skip
    return reason("red_line" if red else "dislike", f"vetoed by {who}: {why}", actor, clause,
                  option)  # fmt: skip


def failed(yes: int, needed: int, actor: str, vote: str, chance: float,
           name: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    return reason("short_of_votes", f"failed: {yes} yes of the {needed} needed; "
                  f"{name.get(actor, actor)}'s {vote} decided it (it voted yes with chance "
                  f"{chance:.0%})", actor)  # fmt: skip


def not_voted(status: str, actor: str | None, clause: str | None, option: str | None,
              label: str | None, name: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    head = "withdrawn" if status == "withdrawn" else "no agreement by the deadline"
    who = name.get(actor, actor) if actor else None
    if clause is not None:
        return reason("red_line", f"{head}: the draft crosses {who}'s red line on {label} "
                      f"({_words(option)}) and no text the penholder accepts avoids it with a chance",
                      actor, clause, option)  # fmt: skip
    kind = "no_prospect" if status == "withdrawn" else "deadline"
    who = f"; {who} was least likely to vote yes" if who else ""
    return reason(kind, f"{head}: no text the penholder accepts had a chance of adoption{who}",
                  actor)  # fmt: skip
