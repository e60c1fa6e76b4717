"""What every resolver receives: the request's session and the authenticated client."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tarroitus.models import Client


@dataclass(frozen=True)
class GraphQLContext:
    """The request's database session (one transaction) and the client whose key signed the request."""

    session: Session
    client: Client
