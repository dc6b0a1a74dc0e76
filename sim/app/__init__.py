"""The explorer: ``stabsim app`` in a browser (Mesa's SolaraViz on Solara).

Browser-free parts, each testable alone: :mod:`sim.app.state` (the chosen scenario, the changes
laid over it, the seed, the what-if file), :mod:`sim.app.negotiation` (one run, round by round,
as the page reads it), :mod:`sim.app.odds` (the live Monte Carlo on the common runner) and
:mod:`sim.app.charts`. :mod:`sim.app.page` is the Solara page and :mod:`sim.app.server` starts
it; only they import Solara.
"""
