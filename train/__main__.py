"""``python -m train --config configs/X.yaml [--workdir DIR] [--set k=v ...]``."""

import sys

from qtnet.training.cli import train_main

sys.exit(train_main(sys.argv[1:], prog="python -m train"))
