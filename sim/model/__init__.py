"""Layer 2, the negotiation: the Mesa model and its agents, the protocols, and the pure
maths they call (utility, vote rule, coalition, text search, power indices)."""
