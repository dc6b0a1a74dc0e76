"""Layer 4, running designs: one runner (seeds, chunks, executors, output folders, resume)
and the designs on it: sweeps, sensitivity analyses, the backtest, power and DEU III."""
