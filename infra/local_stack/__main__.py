"""`python -m local_stack`: run Tarroitus locally (see README, "Running locally")."""

import sys

from local_stack.cli import main

if __name__ == "__main__":
    sys.exit(main())
