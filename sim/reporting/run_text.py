"""Human-readable views of a run: the terminal summary and the draft resolution in UN style."""

from __future__ import annotations

import textwrap

from sim.model.result import RunResult
from sim.scenario.compiled import Scenario

OUTCOME_WORDS = {
    "adopted": "ADOPTED",
    "vetoed": "VETOED",
    "failed": "FAILED (too few yes votes)",
    "withdrawn": "WITHDRAWN by the penholder",
    "no_agreement": "NO AGREEMENT by the deadline",
}


def _tally_line(r: RunResult, needed: int) -> str:
    if not r.tally:
        return "no vote held"
    t = r.tally
    veto = f"veto by {', '.join(r.vetoed_by)}" if r.vetoed_by else "no veto"
    return f"{t['yes']} yes, {t['no']} no, {t['abstain']} abstain; {needed} needed, {veto}"


def summary(result: RunResult, scenario: Scenario) -> str:
    """The run as a short report: outcome, votes, text, path and coalition."""
    sc, r = scenario, result
    names = dict(zip(sc.actor_ids, sc.names, strict=True))
    seats = dict(zip(sc.actor_ids, sc.seat, strict=True))
    width = max(len(n) for n in sc.names)
    lines = [
        f"{sc.spec.name}",
        f"scenario {sc.source} · seed {r.seed} · protocol {r.protocol}",
        "",
        f"Outcome: {OUTCOME_WORDS[r.outcome]} after {r.rounds} round{'s' * (r.rounds != 1)}"
        f" ({_tally_line(r, sc.votes_needed)})",
    ]
    if r.why:
        lines.append(f"Why: {r.why['text']}.")
    if r.adopted_draft_by and r.adopted_draft_by != sc.actor_ids[sc.penholder]:
        lines.append(f"The adopted text is the rival draft of {names[r.adopted_draft_by]}.")
    for d in r.drafts[1:]:
        vetoed = f"vetoed by {', '.join(d.vetoed_by)}" if d.vetoed_by else "failed"
        t = d.tally
        lines.append(
            f"Rival draft by {names[d.by]}: {'adopted' if d.adopted else vetoed}"
            f" ({t['yes']} yes, {t['no']} no, {t['abstain']} abstain)."
        )
    if r.votes:
        lines += ["", "Votes"]
        for aid, vote in r.votes.items():
            lines.append(f"  {aid:<5} {names[aid]:<{width}}  {seats[aid]:<9}  {vote}")
    text = r.text or r.draft
    lines += ["", "Adopted text" if r.text else "Last draft (not adopted)"]
    label_width = max(len(c.label) for c in sc.space.clauses)
    for c in sc.space.clauses:
        shown = c.words(c.options.index(text[c.id]))
        lines.append(f"  {c.label:<{label_width}}  {shown}")
    if r.path:
        lines += ["", "Negotiation path"]
        opening = " ".join(f"{c}={o}" for c, o in r.opening.items())
        lines.append(textwrap.fill(f"opening draft: {opening}", 88, initial_indent="  ",
                                   subsequent_indent="      "))  # fmt: skip
        previous = r.opening
        for rec in r.path:
            moves = [f"{c} {previous[c]}→{o}" for c, o in rec.text.items() if previous[c] != o]
            i = rec.intentions
            lines.append(
                f"  round {rec.round}: P(adopt) {rec.p_adopt:.2f}, intentions "
                f"{i['yes']}/{i['abstain']}/{i['no']} yes/abstain/no; "
                + (", ".join(moves) if moves else "draft unchanged")
            )
            if rec.demands:
                demands = ", ".join(
                    f"{d['actor']} {d['clause']}={d['option']}" for d in rec.demands
                )
                lines.append(textwrap.fill(f"demands: {demands}", 88, initial_indent="      ",
                                           subsequent_indent="        "))  # fmt: skip
            previous = rec.text
    lines += ["", f"Troop coalition (required {r.troops_required:,} delivered troops)"]
    if not r.coalition:
        lines.append("  nobody commits troops")
    for c in r.coalition:
        lead = "  lead nation" if c.lead else ""
        lines.append(
            f"  {c.actor:<5} {names[c.actor]:<{width}}  pledged {c.pledged:>7,}"
            f"  delivered {c.delivered:>7,}{lead}"
        )
    verdict = "VIABLE" if r.viable else "NOT VIABLE"
    why = []
    if r.delivered_troops < r.troops_required:
        why.append(f"{r.troops_required - r.delivered_troops:,} troops short")
    if r.lead is None:
        why.append("no acceptable lead nation")
    lines.append(
        f"  total pledged {r.pledged_troops:,}, delivered {r.delivered_troops:,}: force {verdict}"
        + (f" ({'; '.join(why)})" if why else "")
    )
    if not r.host_consent:
        lines.append("  the host withholds consent: the adopted text crosses its red lines")
    if r.kept_out:
        lines.append(f"  kept out by the host: {', '.join(names[a] for a in r.kept_out)}")
    if not r.coalition_stable:
        lines.append("  note: no stable coalition was reached within the move limit")
    return "\n".join(lines)


def draft_resolution(result: RunResult, scenario: Scenario) -> str:
    """The adopted text (or the last draft) as a Security Council resolution."""
    sc = scenario
    text = result.text or result.draft
    status = "adopted" if result.text else "draft, not adopted"
    head = [
        "United Nations" + " " * 40 + "S/RES/XXXX",
        "Security Council" + " " * 38 + f"({status})",
        "",
        f"[{sc.spec.name}]",
        "",
        "The Security Council,",
        "",
    ]
    wrap = textwrap.TextWrapper(width=78, subsequent_indent="    ")
    pre = [*sc.spec.preamble]
    ops = []
    for c in sc.space.clauses:
        para = c.paragraph(
            c.index_of(text[c.id]) if c.kind != "scale" else c.options.index(text[c.id])
        )
        if para.strip():
            (pre if c.section == "preamble" else ops).append(para.strip())
    body = [wrap.fill("    " + p) for p in pre]
    if pre:
        body.append("")
    for i, p in enumerate(ops, 1):
        body.append(wrap.fill(f"{i}. {p}"))
    body.append(wrap.fill(f"{len(ops) + 1}. Decides to remain actively seized of the matter."))
    return "\n".join(head + body)
