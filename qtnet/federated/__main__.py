"""``python -m qtnet.federated --config FILE``: the same as ``qtnet federated``."""

import sys

from qtnet.cli import main

sys.exit(main(["federated", *sys.argv[1:]]))
