"""What every resolver receives: the request's session, the authenticated client and the settings."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tarroitus.api.auth import CurrentClient
from tarroitus.deadlines import Deadline
from tarroitus.settings import Settings


@dataclass(frozen=True)
class GraphQLContext:
    """The request's database session (one transaction), the client whose key signed the request, the settings,
    and when the request's time budget ends."""

    session: Session
    client: CurrentClient
    settings: Settings
    deadline: Deadline
