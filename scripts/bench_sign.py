"""Cora SIGN training speed, qtnet (JAX) against the same model in PyTorch, in one run.

    python scripts/bench_sign.py --torch-python /path/to/venv/bin/python [--epochs 1000]

PyTorch is not a qtnet dependency: give the interpreter of an environment that has it
(``python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 numpy``).
Both sides train the paper's polynomial SIGN (R = 5, hidden 512, dropout 0.4 / input 0.3,
Adam 1e-3) on the same hop features for the same number of full-batch epochs, evaluating
validation and test logits every 10 epochs; the reported time is the training loop's wall
time (qtnet: ``run_sign_node``, compilation included and also given apart).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

TORCH_SIDE = r'''
import json, sys, time
import numpy as np
import torch

data = np.load(sys.argv[1])
epochs, seed = int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(seed)
x = torch.from_numpy(data["x"])
y = torch.from_numpy(data["y"]).long()
train, val, test = (torch.from_numpy(data[k]).long() for k in ("train", "val", "test"))
n, k, f = x.shape
hidden, classes = 512, int(y.max()) + 1


class SIGN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(k, f, hidden) / f ** 0.5)
        self.b = torch.nn.Parameter(torch.zeros(k, hidden))
        self.coef = torch.nn.Parameter(torch.tensor(
            [0.0169394634313126, 0.5, 0.3078363963999393]).repeat(k, 1))
        self.out = torch.nn.Linear(k * hidden, classes)
        self.drop, self.drop_in = torch.nn.Dropout(0.4), torch.nn.Dropout(0.3)

    def forward(self, x):
        t = torch.einsum("bkf,kfh->bkh", self.drop_in(x), self.w) + self.b
        c = self.coef
        h = c[:, 0, None] + c[:, 1, None] * t + c[:, 2, None] * t * t
        return self.out(self.drop(h.reshape(len(x), -1)))


model = SIGN()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
xt, yt = x[train], y[train]
start = time.perf_counter()
best = (-1.0, 0.0)
for epoch in range(1, epochs + 1):
    model.train()
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(xt), yt)
    loss.backward()
    opt.step()
    if epoch % 10 == 0:
        model.eval()
        with torch.no_grad():
            zv, zt = model(x[val]), model(x[test])
        acc_v = (zv.argmax(1) == y[val]).float().mean().item()
        if acc_v > best[0]:
            best = (acc_v, (zt.argmax(1) == y[test]).float().mean().item())
print(json.dumps({"seconds": time.perf_counter() - start, "test_acc": best[1],
                  "threads": torch.get_num_threads(), "version": torch.__version__}))
'''


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", required=True,
                        help="a Python interpreter with torch installed")
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench_results/bench_sign.json")
    args = parser.parse_args(argv)

    import jax

    from qtnet.data import load_node_dataset
    from qtnet.data.features import sign_hops
    from qtnet.experiments.sign_node import SignNodeSettings, run_sign_node

    data = load_node_dataset("cora")
    hops = sign_hops(data, 5)
    settings = SignNodeSettings(activation="poly", epochs=args.epochs)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cora.npz")
        np.savez(path, x=hops, y=data.labels, train=data.train, val=data.val, test=data.test)
        out = subprocess.run([args.torch_python, "-c", TORCH_SIDE, path, str(args.epochs),
                              str(args.seed)], check=True, capture_output=True, text=True)
    torch_result = json.loads(out.stdout)

    start = time.perf_counter()
    run_sign_node(hops, data, SignNodeSettings(activation="poly", epochs=1), args.seed)
    compile_seconds = time.perf_counter() - start       # one epoch: compile + a step
    start = time.perf_counter()
    ours = run_sign_node(hops, data, settings, args.seed)
    qtnet_seconds = time.perf_counter() - start

    result = {"epochs": args.epochs, "qtnet_seconds": qtnet_seconds,
              "qtnet_one_epoch_seconds": compile_seconds, "qtnet_test_acc": ours["test_acc"],
              "torch_seconds": torch_result["seconds"], "torch_test_acc": torch_result["test_acc"],
              "torch_threads": torch_result["threads"], "torch_version": torch_result["version"],
              "jax_version": jax.__version__,
              "ratio_qtnet_over_torch": qtnet_seconds / torch_result["seconds"]}
    print(f"Cora SIGN (poly), {args.epochs} epochs: qtnet {qtnet_seconds:.1f} s "
          f"(a separate 1-epoch run incl. compile: {compile_seconds:.1f} s; test acc "
          f"{ours['test_acc']:.3f}), PyTorch {torch_result['version']} "
          f"{torch_result['seconds']:.1f} s ({torch_result['threads']} threads; test acc "
          f"{torch_result['test_acc']:.3f}); qtnet / PyTorch = "
          f"{result['ratio_qtnet_over_torch']:.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
