"""`python -m local_stack`: run Tarroitus locally (see docs/local.md)."""

import sys

from local_stack.cli import main

if __name__ == "__main__":
    sys.exit(main())
