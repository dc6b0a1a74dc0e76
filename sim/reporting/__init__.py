"""Layer 5, what a reader sees: the house style, charts, terminal tables, sentences and the
briefing pack."""
