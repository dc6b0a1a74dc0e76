"""Layer 3, what results mean: statistics, the one reader of result folders, sweep
summaries, comparisons of two sweeps and scenario discovery. Runs nothing."""
