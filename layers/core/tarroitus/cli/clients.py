"""``python -m tarroitus clients``: create a client (a printer station, the sync agent, an admin), list, revoke.

`create` prints the new key on stdout, once; it is stored only as a hash and cannot be shown again
(rotate it through the API to get a new one). Messages go to stderr, so the key can be piped.
"""

import argparse
import sys

from tarroitus.db import get_engine
from tarroitus.domain import ClientRole
from tarroitus.errors import ConflictError, NotFoundError
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.clients import get_client_by_name, list_clients, register_client, revoke_client
from tarroitus.settings import get_settings

EXIT_REFUSED = 1


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the clients command and its subcommands."""
    parser = subparsers.add_parser("clients", help="manage API clients", description="Manage API clients.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = _add_creation(
        actions,
        "create",
        help="register a client and print its API key once",
        description="Register a client (printer: a label station; sync: the sync agent; admin: an operator) "
        "and print its API key on stdout. The key is not shown again.",
        name_help="the client's unique name, e.g. the station's",
    )
    create.add_argument(
        "--role", required=True, choices=[role.value for role in ClientRole], help="what the client may do"
    )
    _add_creation(
        actions,
        "create-admin",
        help="register an admin client and print its API key once (create --role admin)",
        description="Register an admin client and print its API key on stdout. The key is not shown again.",
        name_help="the client's unique name",
        role=ClientRole.ADMIN.value,
    )
    listing = actions.add_parser("list", help="list registered clients", description="List registered clients.")
    listing.set_defaults(handler=list_all)
    revoke = actions.add_parser(
        "revoke",
        help="revoke a client's key at once",
        description="Revoke the named client's key; its next request is refused. The last active admin stays.",
    )
    revoke.add_argument("--name", required=True, help="the client's name")
    revoke.set_defaults(handler=revoke_named)


def _add_creation(
    actions: "argparse._SubParsersAction[argparse.ArgumentParser]",
    command: str,
    *,
    help: str,
    description: str,
    name_help: str,
    **defaults: str,
) -> argparse.ArgumentParser:
    """A subcommand registering a client by `--name` (the other settings of `create_client` in `defaults`)."""
    parser = actions.add_parser(command, help=help, description=description)
    parser.add_argument("--name", required=True, help=name_help)
    parser.set_defaults(handler=create_client, **defaults)
    return parser


def create_client(args: argparse.Namespace) -> int:
    """Register a client named ``args.name`` with ``args.role`` and print its key; exit 1 when the name is taken."""
    settings = get_settings()
    role = ClientRole(args.role)
    try:
        with session_scope(get_engine(settings)) as session:
            issued = register_client(
                session, name=args.name, role=role, pepper=settings.api_key_pepper.get_secret_value()
            )
            client_id, key_id, api_key = issued.client.id, issued.client.key_id, issued.api_key
    except ConflictError as exc:
        sys.stderr.write(f"clients: {exc.message}\n")
        return EXIT_REFUSED
    sys.stderr.write(f"{role.value.capitalize()} client {args.name!r} created (id {client_id}, key id {key_id}).")
    sys.stderr.write(" Its API key, shown only now:\n")
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


def revoke_named(args: argparse.Namespace) -> int:
    """Revoke the client named ``args.name``; exit 1 when there is none or it is the last active admin."""
    try:
        with session_scope(get_engine(get_settings())) as session:
            client = get_client_by_name(session, name=args.name)
            revoke_client(session, client_id=client.id)
    except (ConflictError, NotFoundError) as exc:
        sys.stderr.write(f"clients revoke: {exc.message}\n")
        return EXIT_REFUSED
    sys.stderr.write(f"Client {args.name!r} revoked.\n")
    return 0
