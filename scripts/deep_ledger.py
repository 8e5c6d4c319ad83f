"""Every party's contractions in one training step of a deep-circuit config, and the
hand-off of Alice's hop state, from the config's shapes alone (nothing is built or run).

    python scripts/deep_ledger.py [--config configs/grid_2e32_deep.yaml] [--json out.json]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from qtnet.comm.deep_ledger import deep_sign_handoff, deep_sign_ledger, ledger_table
from qtnet.config import Config, load
from qtnet.data.grid_deep import propagation_mpo


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/grid_2e32_deep.yaml")
    parser.add_argument("--json", default=None, help="also write the records here")
    args = parser.parse_args(argv)
    config = load(Config, args.config, [])
    config.validate()
    m, d = config.model, config.data
    n_sites = d.graph_qubits + (d.hops + 1).bit_length() - 1 + d.feature_qubits
    t_bond = propagation_mpo(d, np.float64).bond_cap       # the graph's T, as Alice builds it
    records = deep_sign_ledger(n_sites=n_sites, layers=m.layers, weight_bond=m.weight_bond,
                               max_bond=config.backend.max_bond,
                               batch=config.training.batch_size, n_classes=d.classes,
                               hops=d.hops, propagation_bond=t_bond,
                               itemsize=8 if config.backend.dtype == "float64" else 4)
    handoff = deep_sign_handoff(n_sites=n_sites, layers=m.layers,
                                max_bond=config.backend.max_bond, bits=config.metering.bits)
    print(ledger_table(records, handoff))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"contractions": [r.to_dict() for r in records], "handoff": handoff}, f,
                      indent=1)


if __name__ == "__main__":
    main()
