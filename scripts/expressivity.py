"""Expressivity grows with depth: the degree in its input of the deep polynomial model for
L = 1 ... 4 layers against the paper's 2^L (log-log slope and Chebyshev-fit degree); a table,
JSON and a plot of |z(t x)| against t.

    python scripts/expressivity.py [--layers 1,2,3,4] [--out docs/expressivity]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="1,2,3,4")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="docs/expressivity", help="writes <out>.json, .png")
    args = parser.parse_args()
    import jax

    jax.config.update("jax_enable_x64", True)
    from qtnet.experiments.expressivity import degree_table, plot_rays

    layers = tuple(int(v) for v in args.layers.split(","))
    rows = degree_table(layers, seed=args.seed)
    print(f"{'L':>3} {'2^L':>5} {'log-log slope':>14} {'fitted degree':>14}")
    for r in rows:
        print(f"{r['layers']:>3} {r['expected']:>5} {r['slope']:>14.3f} {r['fit_degree']:>14}")
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    plot_rays(layers, out.with_suffix(".png"), seed=args.seed)


if __name__ == "__main__":
    main()
