"""Negotiation protocols: what one round of negotiation does.

Each protocol is a class with a ``name``, ``start(model)`` and ``step(model)``; it
moves ``model.draft`` and ends negotiation by calling ``model.table(...)`` or by
setting ``model.status`` to ``"withdrawn"`` or ``"no_agreement"``. The model then
runs rival drafts, the vote and the coalition, the same for every protocol.
Register a new protocol in ``PROTOCOLS``; nothing else needs to change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sim.errors import StabsimError
from sim.model.protocols.compromise import CompromiseProtocol
from sim.model.protocols.expected_utility import ExpectedUtilityProtocol
from sim.model.protocols.penholder import PenholderProtocol

if TYPE_CHECKING:
    from sim.model.model import NegotiationModel


class NegotiationProtocol(Protocol):
    name: str

    def start(self, model: NegotiationModel) -> None: ...

    def step(self, model: NegotiationModel) -> None: ...


PROTOCOLS: dict[str, type] = {
    PenholderProtocol.name: PenholderProtocol,
    CompromiseProtocol.name: CompromiseProtocol,
    ExpectedUtilityProtocol.name: ExpectedUtilityProtocol,
}


class UnknownProtocol(StabsimError, ValueError):
    """A protocol name that is not in the registry."""


def make_protocol(name: str) -> NegotiationProtocol:
    try:
        return PROTOCOLS[name]()
    except KeyError:
        raise UnknownProtocol(
            f"--protocol: expected one of {', '.join(PROTOCOLS)}, got {name!r}"
        ) from None
