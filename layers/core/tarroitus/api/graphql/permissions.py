"""Roles in GraphQL: the same as REST (printers read items and label events; admins read everything)."""

from typing import Any, ClassVar

from graphql import GraphQLErrorExtensions
from strawberry import Info
from strawberry.permission import BasePermission

from tarroitus.api.graphql.context import GraphQLContext
from tarroitus.domain import ClientRole


class RolePermission(BasePermission):
    """Admits clients whose role is in `roles`; admins are always admitted, as in `require_role`."""

    roles: ClassVar[frozenset[ClientRole]] = frozenset()
    error_extensions: GraphQLErrorExtensions | None = {"code": "forbidden"}  # noqa: RUF012 - an instance attribute on BasePermission

    def has_permission(self, source: Any, info: Info[GraphQLContext, None], **kwargs: Any) -> bool:
        """True when the client's role may read this field."""
        return info.context.client.role in self.roles | {ClientRole.ADMIN}


class IsPrinter(RolePermission):
    """Printer stations (and admins): items and label events."""

    message = "This field needs one of the roles: admin, printer"
    roles = frozenset({ClientRole.PRINTER})


class IsAdmin(RolePermission):
    """Admins only: clients, status and analytics."""

    message = "This field needs the role: admin"
    roles = frozenset()
