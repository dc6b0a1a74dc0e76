"""Negotiation protocols: what one round of negotiation does.

Each protocol is a class with a ``name``, ``start(model)`` and ``step(model)``; it
moves ``model.draft`` and ends negotiation by calling ``model.table(...)`` or by
setting ``model.status`` to ``"withdrawn"`` or ``"no_agreement"``. The model then
runs rival drafts, the vote and the coalition, the same for every protocol.
Register a new protocol in ``REGISTRY`` and name it in ``sim.scenario.schema.PROTOCOLS``
(the names a scenario file may use); nothing else needs to change.
"""

from __future__ import annotations

from sim.model.model import NegotiationProtocol
from sim.model.protocols.compromise import CompromiseProtocol
from sim.model.protocols.expected_utility import ExpectedUtilityProtocol
from sim.model.protocols.penholder import PenholderProtocol
from sim.model.protocols.penholder_v1 import PenholderV1Protocol
from sim.scenario.schema import protocol_name

REGISTRY: dict[str, type] = {
    PenholderProtocol.name: PenholderProtocol,
    PenholderV1Protocol.name: PenholderV1Protocol,
    CompromiseProtocol.name: CompromiseProtocol,
    ExpectedUtilityProtocol.name: ExpectedUtilityProtocol,
}


def make_protocol(name: str) -> NegotiationProtocol:
    """A fresh protocol object (protocols keep per-run state) by its name."""
    return REGISTRY[protocol_name(name)]()
