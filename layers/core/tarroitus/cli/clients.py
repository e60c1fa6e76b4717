"""``python -m tarroitus clients``: create the first admin client, list clients.

`create-admin` prints the new key on stdout, once; it is stored only as a hash and cannot be
shown again (rotate it through the API to get a new one).
"""

import argparse
import sys

from tarroitus.db import get_engine
from tarroitus.domain import ClientRole
from tarroitus.errors import ConflictError
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.clients import list_clients, register_client
from tarroitus.settings import get_settings

EXIT_CONFLICT = 1


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the clients command and its subcommands."""
    parser = subparsers.add_parser("clients", help="manage API clients", description="Manage API clients.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create-admin",
        help="register an admin client and print its API key once",
        description="Register an admin client and print its API key on stdout. The key is not shown again.",
    )
    create.add_argument("--name", required=True, help="the client's unique name")
    create.set_defaults(handler=create_admin)
    listing = actions.add_parser("list", help="list registered clients", description="List registered clients.")
    listing.set_defaults(handler=list_all)


def create_admin(args: argparse.Namespace) -> int:
    """Register an admin client named ``args.name`` and print its key; exit 1 when the name is taken."""
    settings = get_settings()
    try:
        with session_scope(get_engine(settings)) as session:
            issued = register_client(
                session, name=args.name, role=ClientRole.ADMIN, pepper=settings.api_key_pepper.get_secret_value()
            )
            client_id, key_id, api_key = issued.client.id, issued.client.key_id, issued.api_key
    except ConflictError as exc:
        sys.stderr.write(f"clients create-admin: {exc.message}\n")
        return EXIT_CONFLICT
    sys.stderr.write(f"Admin client {args.name!r} created (id {client_id}, key id {key_id}). Its API key:\n")
    sys.stdout.write(api_key + "\n")
    return 0


def list_all(_args: argparse.Namespace) -> int:
    """Print one tab-separated line per client: name, type, key id, state, last seen."""
    with session_scope(get_engine(get_settings())) as session:
        lines = [
            "\t".join(
                (
                    client.name,
                    client.role.value,
                    client.key_id,
                    "revoked" if client.revoked_at else "active",
                    client.last_seen_at.isoformat() if client.last_seen_at else "never",
                )
            )
            for client in list_clients(session)
        ]
    sys.stdout.write("".join(line + "\n" for line in ["name\ttype\tkey_id\tstate\tlast_seen", *lines]))
    return 0
