"""Run the Tarroitus command line: ``python -m tarroitus <command>``."""

from tarroitus.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
