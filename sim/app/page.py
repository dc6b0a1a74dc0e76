"""The explorer's page (Solara): the scenario's levers, one negotiation round by round in Mesa's
SolaraViz, and the live odds against the unchanged scenario.

Rules:

- Every change goes through :mod:`sim.app.state`; the page only shows its state. A change
  rebuilds the negotiation with the same seed and replays it to the round it had reached.
- The negotiation is an :class:`~sim.app.negotiation.ExplorerModel` in Mesa's SolaraViz (its
  Step, Play and Reset; Reset rebuilds the run of the page's seed); the panels read the model
  and its agents.
- The odds run off the page's thread (:class:`~sim.app.odds.OddsRunner`, a process pool of
  ``STABSIM_APP_WORKERS`` processes, 0 for a thread); a change cancels the job before it.
- No callback lets an exception reach the page: a refusal is shown as the command line's
  message next to its control, anything else as one line.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.app import charts
from sim.app import odds as od
from sim.app import state as st
from sim.app.negotiation import ExplorerModel, draft_view, members_view, status_line
from sim.reporting import style
from sim.scenario import library

SCENARIO_ENV = "STABSIM_APP_SCENARIO"  # the scenario the page opens with (server sets it)
WORKERS_ENV = "STABSIM_APP_WORKERS"  # processes of the odds (0: a thread of the server)
RED = style.VERMILLION
SEATS = {"permanent": "P5", "elected": "E10", "none": "off"}

_pool: Executor | None = None
_pool_lock = threading.Lock()


def workers() -> int:
    """Processes for the odds: ``STABSIM_APP_WORKERS``, else up to two of this machine's cores."""
    value = os.environ.get(WORKERS_ENV)
    return int(value) if value else min(2, os.cpu_count() or 1)


def executor() -> Executor | None:
    """The process pool every session's odds share (None: run them in a thread)."""
    global _pool
    with _pool_lock:
        if _pool is None and workers() > 0:
            _pool = ProcessPoolExecutor(workers(), mp_context=multiprocessing.get_context("spawn"))
        return _pool


def warm(scenario: Any) -> None:
    """Start the pool and compile the scenario in every worker before the first odds."""
    pool = executor()
    if pool is not None:
        job = od.job_of(scenario, 1)
        for _ in range(workers()):
            pool.submit(od.warm, job)


def initial() -> tuple[st.Explorer | None, str | None]:
    """The page's first state: the server's scenario, or the message saying why it cannot open."""
    try:
        ex = st.start(os.environ.get(SCENARIO_ENV, "gaza"))
    except Exception as exc:
        return None, st.message(exc)
    warm(ex.scenario)
    return ex, None


def guarded(fn: Callable[..., Any], fail: Callable[[str], None]) -> Callable[..., Any]:
    """``fn`` with every exception turned into one line passed to ``fail``."""

    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            fail(st.message(exc))
            return None

    return call


def rebuild(ex: st.Explorer, rounds: int) -> ExplorerModel:
    """The negotiation of the explorer's scenario and seed, replayed to ``rounds`` rounds."""
    model = ExplorerModel(scenario=ex.scenario, seed=ex.seed)
    while model.steps < rounds and model.result is None:
        model.step()
    return model


def ErrorLine(text: str | None) -> None:
    """A refusal next to its control, in the command line's words."""
    if text:
        solara.Text(text, style={"color": RED, "font-size": "0.85em", "white-space": "pre-wrap"},
                    classes=["stabsim-error"])  # fmt: skip


# --- the negotiation panels (SolaraViz components: each is given the model) ---------------------------


def panel(title: str, body: Callable[[], None], cls: str) -> None:
    with solara.Div(classes=[cls], style={"height": "100%", "overflow": "auto", "padding": "8px"}):
        solara.Markdown(f"**{title}**")
        try:
            body()
        except Exception as exc:  # a view that fails says so in one line
            ErrorLine(st.message(exc))


@solara.component
def DraftPanel(model: ExplorerModel) -> None:
    update_counter.get()  # Mesa's controls bump it on every step: draw again

    def body() -> None:
        solara.Text(status_line(model), classes=["stabsim-round"], style={"font-weight": "bold"})
        for p in draft_view(model):
            mark = {"background": "#FFF2B3"} if p.changed else {}
            with solara.Div(classes=["stabsim-clause"], style={"margin": "6px 0", **mark}):
                was = f" (was {p.before})" if p.changed else ""
                solara.Markdown(f"*{p.label}:* **{p.words}**{was}")
                if p.text:
                    solara.Text(p.text, style={"font-size": "0.85em", "color": style.MUTED})

    panel("The draft (changed in the last round: highlighted)", body, "stabsim-draft")


@solara.component
def MembersPanel(model: ExplorerModel) -> None:
    update_counter.get()  # Mesa's controls bump it on every step: draw again

    def body() -> None:
        rows = ["| | seat | intends | demands | amendment | vote |", "|-|-|-|-|-|-|"]
        for m in members_view(model):
            vote = (m.vote or "") + (" (veto)" if m.vetoed else "")
            rows.append(f"| **{m.code}** | {SEATS[m.seat]} | {m.intention or ''} | "
                        f"{m.demand or ''} | {m.amendment or ''} | {vote} |")  # fmt: skip
        solara.Markdown("\n".join(rows), style={"font-size": "0.8em"})

    panel("Members: intentions, demands and amendments of the last round", body, "stabsim-members")


@solara.component
def OutcomePanel(model: ExplorerModel) -> None:
    update_counter.get()  # Mesa's controls bump it on every step: draw again

    def body() -> None:
        r = model.result
        if r is None:
            solara.Text("The vote and the troop coalition come when negotiation ends "
                        "(Step, or Play to the end).")  # fmt: skip
            return
        tally = ", ".join(f"{v} {k}" for k, v in r.tally.items()) or "no vote held"
        abstained = [a for a, v in r.votes.items() if v == "abstain"]
        lines = [
            f"**{r.outcome.replace('_', ' ').capitalize()}** ({tally})",
            f"- abstained: {', '.join(abstained) or 'none'}",
            f"- vetoed by: {', '.join(r.vetoed_by) or 'none'}",
            "",
            f"**Troop coalition** (needs {r.troops_required:,} delivered troops): "
            + ("viable" if r.viable else "not viable"),
            "",
            "| | pledged | delivered | |",
            "|-|-|-|-|",
        ]
        lines += [f"| {c.actor} | {c.pledged:,} | {c.delivered:,} | {'lead' if c.lead else ''} |"
                  for c in r.coalition]  # fmt: skip
        lines.append(f"| **total** | {r.pledged_troops:,} | {r.delivered_troops:,} | |")
        if r.kept_out:
            lines.append(f"\nkept out by the host: {', '.join(r.kept_out)}")
        if r.why:
            lines.append(f"\n*Why:* {r.why['text']}.")
        solara.Markdown("\n".join(lines), style={"font-size": "0.85em"})

    panel("The vote and the coalition", body, "stabsim-outcome")


# --- the levers -------------------------------------------------------------------------------------


@solara.component
def NumberLever(lever: st.Lever, on_value: Callable[[float], None]) -> None:
    with solara.Column(gap="0px", classes=["stabsim-lever"]):
        solara.Text(lever.label + (" (changed)" if lever.changed else ""),
                    style={"font-size": "0.85em"})  # fmt: skip
        with solara.Row(style={"align-items": "center"}):
            with solara.Div(style={"flex": "1"}):
                solara.SliderFloat("", value=lever.value, min=lever.low or 0.0,
                                   max=lever.high or 1.0, step=lever.step or 0.05,
                                   on_value=on_value, thumb_label=False)  # fmt: skip
            solara.InputFloat("value", value=lever.value, on_value=on_value,
                              continuous_update=False, dense=True,
                              style={"max-width": "7em"}, classes=[f"lever-{lever.path}"])  # fmt: skip
        if lever.drawn and not lever.changed:
            solara.Text(f"drawn in each run: {lever.drawn}",
                        style={"font-size": "0.75em", "color": style.MUTED})  # fmt: skip
        ErrorLine(lever.error)


@solara.component
def ActorLevers(ex: st.Explorer, actor: str, apply: Callable[[st.Explorer], None],
                fail: Callable[[str], None]) -> None:  # fmt: skip
    levers = st.actor_levers(ex, actor)

    def on_number(path: str) -> Callable[[float], None]:
        return guarded(lambda v: apply(st.change(ex, path, v)), fail)

    def on_option(path: str) -> Callable[[str], None]:
        return guarded(lambda v: apply(st.set_option(ex, path, v)), fail)

    def on_flag(path: str, option: str) -> Callable[[bool], None]:
        clause = path.split(".")[-1]
        return guarded(lambda v: apply(st.set_red_line(ex, actor, clause, option, bool(v))), fail)

    by_clause: dict[str, list[st.Lever]] = {}
    for lever in levers:
        parts = lever.path.split(".")
        key = parts[3] if parts[2] in ("salience", "ideal", "red_lines") else "_"
        by_clause.setdefault(key, []).append(lever)
    for lever in by_clause.pop("_", []):
        NumberLever(lever, on_number(lever.path))
    for group in by_clause.values():
        changed = any(g.changed for g in group)
        with solara.Details(summary=f"{group[0].label.split(':')[0]}{' (changed)' * changed}",
                            expand=changed):  # fmt: skip
            red = [g for g in group if g.kind == "flag"]
            for lever in group:
                if lever.kind == "number":
                    NumberLever(lever, on_number(lever.path))
                elif lever.kind == "option":
                    solara.Select(lever.label, values=list(lever.options), value=lever.value,
                                  on_value=on_option(lever.path))  # fmt: skip
                    if lever.drawn and not lever.changed:
                        solara.Text(f"drawn in each run: {lever.drawn}",
                                    style={"font-size": "0.75em", "color": style.MUTED})  # fmt: skip
                    ErrorLine(lever.error)
            if red:
                solara.Text(
                    "Red lines (vetoes or refuses texts with):", style={"font-size": "0.85em"}
                )
                with solara.Row(style={"flex-wrap": "wrap"}):
                    for lever in red:
                        solara.Checkbox(label=lever.option, value=lever.value,
                                        on_value=on_flag(lever.path, lever.option or ""))  # fmt: skip
                ErrorLine(red[0].error)


# --- the odds -----------------------------------------------------------------------------------------


@solara.component
def OddsPanel(ex: st.Explorer, base_scenario: Any) -> None:
    runner = solara.use_memo(lambda: od.OddsRunner(executor(), max(workers(), 1)), [])
    now, set_now = solara.use_state(None)
    base, set_base = solara.use_state(None)
    job = od.job_of(ex.scenario, ex.seed)
    base_job = od.job_of(base_scenario, ex.seed)
    unchanged = base_job.key == job.key

    def work(cancel: threading.Event) -> None:
        ticket = runner.submit(job, None if unchanged else base_job)
        set_base(None if unchanged else od.cached(base_job))
        for kind, o in ticket.updates(stop=cancel):
            (set_base if kind == "base" else set_now)(o)

    solara.use_thread(work, dependencies=[job.key, base_job.key], intrusive_cancel=False)
    o: od.Odds | None = now
    b: od.Odds | None = None if unchanged else base
    sc = ex.scenario
    members = [sc.actor_ids[m] for m in sc.members]
    permanent = [sc.actor_ids[m] for m, v in zip(sc.members, sc.veto, strict=True) if v]
    ready = o is not None and not o.error

    def figures() -> dict[str, Any]:
        return {
            "odds": lambda: charts.odds_chart(o, b, sc.name, ex.seed),
            "votes": lambda: charts.votes_chart(o, b, members, permanent, sc.name, ex.seed),
        }

    pngs = solara.use_memo(
        lambda: (
            {k: charts.image(f(), "png", dpi=96) for k, f in figures().items()} if ready else {}
        ),
        [o, b],
    )
    with solara.Card("The odds", classes=["stabsim-odds"]):
        if not ready:
            solara.Text(
                "Computing the odds ..." if o is None else "", classes=["stabsim-odds-state"]
            )
            ErrorLine(o.error if o else None)
            return
        p = o.outcomes["adopted"]
        against = ""
        if b is not None:
            against = (f" · as the file has it {style.pct(b.p('adopted'))} "
                       f"({charts.change(p['p'], b.p('adopted'))})")  # fmt: skip
        with solara.Div(classes=["stabsim-adopted"]):
            solara.Markdown(f"P(adopted) **{style.pct(p['p'])}** [{style.ci(p)}]{against}",
                            style={"font-size": "1.2em"})  # fmt: skip
        state = (f"final: {o.runs:,} runs in {o.seconds:.1f} s" if o.final
                 else f"first estimate from {o.runs:,} of {o.of:,} runs ({o.seconds:.1f} s) ...")  # fmt: skip
        solara.Text(state, classes=["stabsim-odds-state"],
                    style={"font-size": "0.85em", "color": style.MUTED})  # fmt: skip
        with solara.Columns([1, 1]):
            for name, make in figures().items():
                with solara.Column():
                    solara.Image(pngs[name], width="100%")
                    with solara.Row():
                        for fmt in ("png", "svg"):
                            solara.FileDownload(lambda make=make, fmt=fmt: charts.image(make(), fmt),
                                                filename=f"{sc.name}-{name}.{fmt}",
                                                label=f"{name}.{fmt}")  # fmt: skip


# --- the page ------------------------------------------------------------------------------------------


def scenario_names() -> list[str]:
    return [e.name for e in library.entries()]


@solara.component
def Page() -> None:
    first, first_error = solara.use_memo(initial, [])
    explorer = solara.use_reactive(first)
    base_scenario = solara.use_reactive(first.scenario if first else None)
    model = solara.use_reactive(rebuild(first, 0) if first else None)
    actor = solara.use_reactive(_default_actor(first) if first else "")
    failure = solara.use_reactive(first_error)
    open_error = solara.use_reactive(None)
    file_text = solara.use_reactive("")
    save_path = solara.use_reactive(str(st.default_save_path(first)) if first else "")
    saved = solara.use_reactive(None)
    save_error = solara.use_reactive(None)

    solara.Title("stabsim explorer")
    if explorer.value is None:
        solara.Markdown("# stabsim explorer")
        ErrorLine(failure.value)
        return
    ex: st.Explorer = explorer.value

    def fail(line: str) -> None:
        failure.set(line)

    def apply(new: st.Explorer) -> None:
        """Take a new state; rebuild the negotiation when the scenario or the seed moved."""
        old = explorer.value
        explorer.set(new)
        failure.set(None)
        if new.scenario is not old.scenario or new.seed != old.seed:
            model.set(rebuild(new, model.value.steps if model.value else 0))

    def open_scenario(value: str) -> None:
        try:
            new = st.start(value, ex.seed)
        except Exception as exc:
            open_error.set(st.message(exc))
            return
        open_error.set(None)
        base_scenario.set(new.scenario)
        explorer.set(new)
        actor.set(_default_actor(new))
        save_path.set(str(st.default_save_path(new)))
        saved.set(None)
        model.set(rebuild(new, 0))

    def save() -> None:
        try:
            path = st.save(ex, save_path.value.strip() or None)
        except Exception as exc:
            save_error.set(st.message(exc))
            saved.set(None)
            return
        save_error.set(None)
        saved.set(f"Saved {path}. Try: stabsim sweep {path} --seed {ex.seed}")

    sc = ex.scenario
    with solara.Column(style={"padding": "8px"}):
        solara.Markdown(f"## {sc.spec.name}")
        changes = ", ".join(f"{k} = {st._scalar(v)}" for k, v in ex.changes.items()) or "none"
        solara.Text(f"Changes to {ex.base.name}: {changes}", classes=["stabsim-changes"])
        ErrorLine(failure.value)
        with solara.Columns([4, 8]):
            with solara.Column():
                with solara.Card("Scenario"):
                    names = scenario_names()
                    solara.Select("Shipped scenario", values=names,
                                  value=ex.base.name if ex.base.name in names else None,
                                  on_value=guarded(open_scenario, fail))  # fmt: skip
                    with solara.Row(style={"align-items": "center"}):
                        solara.InputText("or open a file", value=file_text,
                                         continuous_update=False)  # fmt: skip
                        solara.Button("Open", on_click=guarded(
                            lambda: open_scenario(file_text.value.strip()), fail))  # fmt: skip
                    ErrorLine(open_error.value)
                    solara.InputInt("Seed", value=ex.seed,
                                    on_value=guarded(lambda v: apply(st.with_seed(ex, v)), fail),
                                    continuous_update=False)  # fmt: skip
                    ErrorLine(ex.errors.get("seed"))
                    for lever in st.scenario_levers(ex):
                        if lever.kind == "whole":
                            solara.InputInt(lever.label, value=lever.value, continuous_update=False,
                                            on_value=guarded(lambda v, p=lever.path: apply(
                                                st.change(ex, p, v)), fail))  # fmt: skip
                        else:
                            solara.Select(lever.label, values=list(lever.options), value=lever.value,
                                          on_value=guarded(lambda v, p=lever.path: apply(
                                              st.set_option(ex, p, v)), fail))  # fmt: skip
                        ErrorLine(lever.error)
                    if ex.changes:
                        solara.Button("Undo all changes", text=True,
                                      on_click=guarded(lambda: apply(st.reset(ex)), fail))  # fmt: skip
                with solara.Card("Levers"):
                    labels = {a: f"{a} · {n}" for a, n in zip(sc.actor_ids, sc.names, strict=True)}
                    solara.Select("Actor", values=list(labels.values()), value=labels.get(actor.value),
                                  on_value=lambda v: actor.set(v.split(" · ")[0]))  # fmt: skip
                    if actor.value in sc.index:
                        ActorLevers(ex, actor.value, apply, fail)
                with solara.Card("Take it away"):
                    solara.InputText("Save the changes as a what-if file", value=save_path,
                                     continuous_update=True)  # fmt: skip
                    solara.Button("Save what-if", on_click=guarded(save, fail), color="primary")
                    if saved.value:
                        solara.Text(saved.value, classes=["stabsim-saved"])
                    ErrorLine(save_error.value)
            with solara.Column():
                OddsPanel(ex, base_scenario.value)
                SolaraViz(
                    model,
                    components=[(DraftPanel, 0), (MembersPanel, 0), (OutcomePanel, 0)],
                    model_params={"scenario": sc, "seed": ex.seed},
                    name="stabsim explorer: one negotiation, round by round",
                ).key(f"viz-{id(sc)}-{ex.seed}")


def _default_actor(ex: st.Explorer) -> str:
    """The first permanent member that is not the penholder (the likeliest veto)."""
    sc = ex.scenario
    for m, veto in zip(sc.members, sc.veto, strict=True):
        if veto and m != sc.penholder:
            return sc.actor_ids[m]
    return sc.actor_ids[0]
