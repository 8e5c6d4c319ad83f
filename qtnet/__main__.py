import sys

from qtnet.cli import main

sys.exit(main())
