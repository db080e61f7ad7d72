"""`python -m bench.peer`: see bench/peer/run.py."""

import sys

from bench.peer.run import _run

sys.exit(_run())
