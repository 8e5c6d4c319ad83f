"""``python -m train``: forwards to the qtnet command line until the training loop lands."""

import sys

from qtnet.cli import main

sys.exit(main(sys.argv[1:] or ["--help"]))
