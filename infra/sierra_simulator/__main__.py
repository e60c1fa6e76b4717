"""Run the Sierra simulator: `python -m sierra_simulator --port 9009 --items 5000 --seed 1`."""

import argparse
import logging
import time

import uvicorn

from .app import SimulatorConfig, create_simulator_app
from .faults import FaultConfig

logger = logging.getLogger("sierra_simulator")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, seed the store and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sierra_simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9009)
    parser.add_argument("--items", type=int, default=5000, help="number of seeded items (ids from 1000000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--client-key", default="simulator-key")
    parser.add_argument("--client-secret", default="simulator-secret")
    parser.add_argument("--token-expires-in", type=int, default=3600, help="expires_in advertised for tokens")
    parser.add_argument("--intl-use-label", default="IUSE3", help="label of fixed field 93 (IUSE3 or INTL USE)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every API request")
    parser.add_argument("--warm", action="store_true", help="build the date indexes before serving")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")

    started = time.perf_counter()
    config = SimulatorConfig(
        item_count=args.items,
        seed=args.seed,
        client_key=args.client_key,
        client_secret=args.client_secret,
        token_expires_in=args.token_expires_in,
        intl_use_label=args.intl_use_label,
        faults=FaultConfig(latency_ms=args.latency_ms),
    )
    app = create_simulator_app(config)
    if args.warm:
        app.state.simulator.store.warm_indexes()
    logger.warning(
        "Sierra simulator: %d items, %d bibs, seeded in %.2f s; http://%s:%d/iii/sierra-api/v6",
        app.state.simulator.store.item_count,
        app.state.simulator.store.bib_count,
        time.perf_counter() - started,
        args.host,
        args.port,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)


if __name__ == "__main__":
    main()
