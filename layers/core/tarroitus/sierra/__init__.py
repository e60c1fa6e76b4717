"""Sierra REST API v6: the one HTTP client module all Sierra traffic goes through.

The client's names load `client` (and httpx) on first use: the API imports this package for its
errors and models only, and its cold start should not pay for the HTTP client the jobs use.
"""

from typing import TYPE_CHECKING, Any

from .errors import (
    SierraAuthError,
    SierraBadRequestError,
    SierraConflictError,
    SierraError,
    SierraMaintenanceError,
    SierraNotFoundError,
    SierraUnavailableError,
)
from .models import (
    BibJson,
    BibPageJson,
    CodeName,
    FixedField,
    ItemJson,
    ItemPage,
    ItemPageJson,
    ItemStatus,
    SierraItem,
    Subfield,
    VarField,
    VarFieldJson,
)

if TYPE_CHECKING:
    from .client import (
        BIB_FIELDS,
        ID_CHUNK_SIZE,
        ITEM_FIELDS,
        ITEM_SYNC_FIELDS,
        MAX_LIMIT,
        BibQuery,
        ItemQuery,
        SierraClient,
        format_date_range,
        format_datetime,
        format_datetime_range,
        format_id_list,
        format_id_range,
    )


def __getattr__(name: str) -> Any:
    # Called only for names not bound above: the ones in __all__ are the client's.
    if name in __all__:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BIB_FIELDS",
    "ID_CHUNK_SIZE",
    "ITEM_FIELDS",
    "ITEM_SYNC_FIELDS",
    "MAX_LIMIT",
    "BibJson",
    "BibPageJson",
    "BibQuery",
    "CodeName",
    "FixedField",
    "ItemJson",
    "ItemPage",
    "ItemPageJson",
    "ItemQuery",
    "ItemStatus",
    "SierraAuthError",
    "SierraBadRequestError",
    "SierraClient",
    "SierraConflictError",
    "SierraError",
    "SierraItem",
    "SierraMaintenanceError",
    "SierraNotFoundError",
    "SierraUnavailableError",
    "Subfield",
    "VarField",
    "VarFieldJson",
    "format_date_range",
    "format_datetime",
    "format_datetime_range",
    "format_id_list",
    "format_id_range",
]
