"""Every combination of the expected-utility model's open choices on DEU III.

    python benchmarks/eu_choices_grid.py [DEU_FILE]

DEU_FILE is the public DEU III table (Thomson et al.), as `stabsim deu` reads it.

Prints the configurations with the lowest mean and the lowest median absolute error (0-100
scale), next to the compromise baseline; asserts nothing. About two minutes on one core.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

from sim.experiments import deu
from sim.model.protocols.expected_utility import EUConfig, eu_forecast

CHOICES = {
    "prob": ["share", "net"],
    "perspective": ["own", "perceived"],
    "forecast": ["mean", "median"],
    "q": [0.5, 1.0],
    "t": [1.0, 0.5],
    "rounds": [1, 2, 3, 5, 10],
    "choose": ["least", "best"],
}


def main() -> None:
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "deu3_public.tsv"
    data = deu.load_deu(sys.argv[1] if len(sys.argv) > 1 else default)
    x = np.nan_to_num(data.position) / 100.0
    c = np.broadcast_to(data.capability / data.capability.max(), x.shape)
    s = data.salience / 100.0
    active = ~np.isnan(data.position) & (data.salience > 0)
    rows = []
    for values in itertools.product(*CHOICES.values()):
        cfg = EUConfig(**dict(zip(CHOICES, values, strict=True)))
        forecast, _, _ = eu_forecast(x, c, s, active, cfg)
        e = deu.errors(np.round(forecast * 100), data.outcome)
        rows.append((e.mean, e.median, e.within10, dict(zip(CHOICES, values, strict=True))))
    base = deu.errors(deu.compromise_baseline(data), data.outcome)
    print(f"{len(rows)} configurations; compromise baseline: mean {base.mean:.1f}, "
          f"median {base.median:.1f}")  # fmt: skip
    for title, key in (("lowest mean", lambda r: (r[0], r[1])),
                       ("lowest median", lambda r: (r[1], r[0]))):  # fmt: skip
        print(f"\n{title}:")
        for mean, median, within, cfg in sorted(rows, key=key)[:5]:
            print(f"  mean {mean:5.1f}  median {median:5.1f}  within 10 {within:4.0%}  {cfg}")


if __name__ == "__main__":
    main()
