"""stabsim: how a UN Security Council negotiation over a stabilization force is likely to end.

Typical use from Python::

    import sim
    scenario = sim.load_scenario("scenarios/gaza_isf_2025.yaml")
    result = sim.run(scenario, seed=1)
    print(result.outcome, result.text)
"""

from sim.errors import ScenarioError, StabsimError
from sim.model.model import NegotiationModel
from sim.model.result import RunResult
from sim.model.simulate import make_model, run
from sim.scenario.compiled import Params, Scenario, load_scenario

__all__ = [
    "NegotiationModel",
    "Params",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "StabsimError",
    "load_scenario",
    "make_model",
    "run",
]
__version__ = "0.1.0"
