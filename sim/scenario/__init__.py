"""Layer 1, what is simulated: scenario files (schema, loader, distributions), the text
space, and the compiled scenario with its parameter catalogue. Imports nothing above it."""

from sim.scenario.compiled import Params, Scenario, load_scenario

__all__ = ["Params", "Scenario", "load_scenario"]
