#!/usr/bin/env bash
# The anchor simulators for scripts/bench_anchors.py, and the MQT Bench generator of
# scripts/generate_mqt_bench.py (mqt.bench, qiskit-aer), in their own virtual environment.
#
#   bash scripts/setup_anchors.sh            # creates .venv-anchors/ beside the repository's files
#   ANCHORS_VENV=/tmp/anchors bash scripts/setup_anchors.sh
#
# Never qtnet's own environment: quimb, TensorCircuit-NG and PennyLane pin their own numpy /
# jax ranges, and the benchmark must not change what qtnet runs on. JAX is pinned to the
# version qtnet's environment has (when one is given) so both sides compile with one XLA.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${ANCHORS_VENV:-.venv-anchors}"
qtnet_python="${QTNET_PYTHON:-python3}"
jax_version="$("$qtnet_python" -c 'import jax; print(jax.__version__)' 2>/dev/null || true)"

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
jax_spec="jax"
if [ -n "$jax_version" ]; then
  jax_spec="jax==$jax_version"
fi
"$venv/bin/pip" install --quiet "$jax_spec" quimb tensorcircuit-ng pennylane "mqt.bench>=2.3" \
  qiskit-aer
"$venv/bin/python" - <<'PY'
import importlib.metadata as md
for name in ("jax", "quimb", "tensorcircuit-ng", "pennylane", "numpy", "mqt.bench", "qiskit",
             "qiskit-aer"):
    print(f"{name:18s} {md.version(name)}")
PY
echo "anchors ready: $venv/bin/python  (bench_anchors.py --anchor-python $venv/bin/python)"
