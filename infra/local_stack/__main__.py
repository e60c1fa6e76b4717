"""`python -m local_stack`: run Tarroitus locally on embedded defaults."""

import sys

from local_stack.stack import main

if __name__ == "__main__":
    sys.exit(main())
