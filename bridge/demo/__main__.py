"""``python -m bridge.demo``: the same as ``python -m bridge demo``."""

import sys

from bridge.demo import main

sys.exit(main(sys.argv[1:]))
