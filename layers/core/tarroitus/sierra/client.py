"""Synchronous client for the Sierra REST API v6 (see shared/SIERRA.md).

One `SierraClient` holds one httpx connection pool and one access token and may be shared by
threads (the writeback runs its PUTs from a thread pool over a single client): the token cache
is guarded by a lock and httpx's pool is thread-safe.

Failure handling, per request:
- 401, whatever its code (token expired, invalid, or a gateway's own answer): fetch a new token once,
  retry once.
- 409, 429, 5xx, timeouts and connection errors: up to `retries` more attempts with exponential
  backoff and jitter (a numeric `Retry-After` is honoured, capped); then a typed error.
- 503 `maintenance_threshold` times in a row (counted over every request of the client, the token
  request included): Sierra is in a maintenance window. The request stops retrying and raises
  `SierraMaintenanceError`; a 503 is retried until then even past `retries`, so that a window is told
  apart from a passing error.
- Any other 4xx: raised at once as a typed error; never retried.
- A PUT is retried only when Sierra cannot have applied it (the connection was never made, or a 409,
  429 or 503 answer); after a read timeout, a dropped connection or a 500/502/504 it may have been
  applied, so it raises `SierraUnavailableError` and the caller re-reads the record before trying again.
- Token errors come OAuth-shaped (`error`, `error_description`); they are logged with those two fields
  and their text, never with the credentials.

With `max_concurrent_requests`, API requests pass an `AdaptiveLimit`: at most that many at once,
halved on a timeout or a 503 and regained step by step (`sierra/throttle.py`).
"""

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self, TypedDict, Unpack, cast

import httpx
from pydantic import SecretStr

from tarroitus.settings import Settings

from .errors import (
    RECORD_NOT_FOUND_CODE,
    SierraAuthError,
    SierraError,
    SierraMaintenanceError,
    SierraNotFoundError,
    SierraUnavailableError,
    error_from_response,
)
from .models import BibPageJson, ItemPage, ItemPageJson, SierraItem
from .throttle import AdaptiveLimit

logger = logging.getLogger(__name__)

#: Sierra's maximum page size for `GET /items` and `GET /bibs`.
MAX_LIMIT = 2000
#: Ids per request when listing by id list: 500 eight-digit ids keep the URL near 4 kB.
ID_CHUNK_SIZE = 500
#: Item fields a sync needs: no fixedFields/varFields, which triple the page size and parsing time.
ITEM_SYNC_FIELDS = (
    "id,updatedDate,createdDate,deletedDate,deleted,suppressed,bibIds,location,status,barcode,callNumber,itemType"
)
#: Every item field this project reads, for `get_item` in the writeback (read, modify, PUT back).
ITEM_FIELDS = (
    "id,updatedDate,createdDate,deletedDate,deleted,suppressed,bibIds,location,status,"
    "barcode,callNumber,itemType,fixedFields,varFields"
)
#: Bib fields the signum and the new classification need.
BIB_FIELDS = "id,updatedDate,createdDate,deletedDate,deleted,suppressed,title,author,materialType,lang,varFields"
#: Statuses worth retrying with backoff: record locked, throttled, server-side failures.
RETRYABLE_STATUSES = frozenset({409, 429, 500, 502, 503, 504})
#: Sierra's answer while it is unavailable, and, many times in a row, during a maintenance window.
UNAVAILABLE_STATUS = 503
#: Statuses that show a write was not applied: the only ones a PUT is retried on.
UNAPPLIED_WRITE_STATUSES = frozenset({409, 429, 503})
#: Transport errors raised before a request reached Sierra: any method may be retried after them.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Refresh the token this many seconds before Sierra says it expires (at most half its lifetime).
TOKEN_REFRESH_MARGIN_SECONDS = 60.0

DateTimeRange = tuple[datetime | None, datetime | None]
DateRange = tuple[date | None, date | None]


class BibQuery(TypedDict, total=False):
    """Every `list_bibs_raw` keyword; items are listed with these and two more (`ItemQuery`)."""

    id_range_start: int
    id_range_end: int
    ids: Sequence[int | str]
    updated_between: DateTimeRange
    deleted_between: DateRange
    deleted: bool
    fields: str
    limit: int
    offset: int


class ItemQuery(BibQuery, total=False):
    """Every `list_items_raw` keyword."""

    created_between: DateTimeRange
    suppressed: bool


def format_datetime(value: datetime) -> str:
    """A timezone-aware datetime as Sierra wants it: UTC, no fractions, `Z` suffix."""
    if value.tzinfo is None:
        raise ValueError("Sierra datetimes must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_datetime_range(start: datetime | None, end: datetime | None) -> str:
    """An `updatedDate`/`createdDate` range: `[2026-01-01T00:00:00Z,2026-01-02T00:00:00Z]`, ends may be open."""
    return f"[{format_datetime(start) if start else ''},{format_datetime(end) if end else ''}]"


def _as_day(value: date) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("Sierra datetimes must be timezone-aware")
        value = value.astimezone(UTC).date()
    return value.isoformat()


def format_date_range(start: date | None, end: date | None) -> str:
    """A `deletedDate` range at day granularity: `[2026-01-01,2026-01-02]` (datetimes are taken in UTC)."""
    return f"[{_as_day(start) if start else ''},{_as_day(end) if end else ''}]"


def format_id_range(start: int | None, end: int | None = None) -> str:
    """An id range: `[1000000,1000999]`, or the open range `[1000000,]`."""
    return f"[{'' if start is None else start},{'' if end is None else end}]"


def format_id_list(ids: Iterable[int | str]) -> str:
    """An id list: `1,2,3`."""
    return ",".join(str(int(record_id)) for record_id in ids)


def _chunks(values: Sequence[int | str], size: int) -> Iterator[Sequence[int | str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class SierraClient:
    """Thread-safe Sierra REST API v6 client with a cached token and bounded retries."""

    def __init__(
        self,
        base_url: str,
        client_key: str | SecretStr,
        client_secret: str | SecretStr,
        *,
        pool_size: int = 8,
        timeout_seconds: float = 30.0,
        retries: int = 5,
        backoff_base_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
        maintenance_threshold: int = 5,
        max_concurrent_requests: int | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        refresh_credentials: Callable[[], tuple[SecretStr, SecretStr]] | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        if maintenance_threshold < 1:
            raise ValueError("maintenance_threshold must be >= 1")
        self._key = client_key if isinstance(client_key, SecretStr) else SecretStr(client_key)
        self._secret = client_secret if isinstance(client_secret, SecretStr) else SecretStr(client_secret)
        self._refresh_credentials = refresh_credentials
        self._retries = retries
        self._backoff_base = backoff_base_seconds
        self._backoff_max = backoff_max_seconds
        self._sleep = sleep
        self._clock = clock
        self._random = random.Random()
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_refresh_at = 0.0
        self.tokens_fetched = 0
        self._maintenance_threshold = maintenance_threshold
        self._unavailable_lock = threading.Lock()
        self._unavailable_in_a_row = 0
        self.concurrency = AdaptiveLimit(max_concurrent_requests) if max_concurrent_requests else None
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            headers={"Accept": "application/json", "User-Agent": "tarroitus-sierra-client"},
            transport=transport,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        client_key: str | SecretStr,
        client_secret: str | SecretStr,
        **overrides: Any,
    ) -> Self:
        """A client configured from `Settings`; credentials are passed in (they come from Secrets Manager)."""
        options: dict[str, Any] = {
            "pool_size": settings.sierra_api_client_pool_size,
            "timeout_seconds": settings.sierra_api_client_timeout_seconds,
            "retries": settings.sierra_api_client_retries,
            "maintenance_threshold": settings.sierra_api_maintenance_threshold,
        }
        options.update(overrides)
        return cls(settings.sierra_base_url, client_key, client_secret, **options)

    def __repr__(self) -> str:
        return f"SierraClient(base_url={str(self._http.base_url)!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # Items

    def list_items(self, **query: Unpack[ItemQuery]) -> ItemPage:
        """One page of `GET /items` as models (404/107 -> an empty page).

        With `ids`, every existing item of the list is returned (fetched in chunks of ID_CHUNK_SIZE and
        merged; `limit`/`offset` do not apply).
        """
        return _merge_pages(self._list_bodies("/items", query, ITEM_SYNC_FIELDS))

    def list_items_raw(self, **query: Unpack[ItemQuery]) -> ItemPageJson:
        """`list_items` without validation: Sierra's JSON as dicts (the fast path for bulk sync)."""
        return cast(ItemPageJson, _merge_raw(self._list_bodies("/items", query, ITEM_SYNC_FIELDS)))

    def get_item(self, item_id: int | str, fields: str = ITEM_FIELDS) -> SierraItem:
        """One item by id (all fields the writeback needs); raises `SierraNotFoundError` when it does not exist."""
        response = self._request("GET", f"/items/{int(item_id)}", params={"fields": fields})
        return SierraItem.model_validate_json(response.content)

    def update_item(self, item_id: int | str, body: Mapping[str, Any]) -> None:
        """`PUT /items/{id}` with only the fields to change (Sierra answers 204 and bumps updatedDate)."""
        self._request("PUT", f"/items/{int(item_id)}", json_body=dict(body))

    # Bibs

    def list_bibs_raw(self, **query: Unpack[BibQuery]) -> BibPageJson:
        """One page of `GET /bibs` as Sierra's JSON, as dicts (404/107 -> an empty page); `ids` as for `list_items`."""
        return cast(BibPageJson, _merge_raw(self._list_bodies("/bibs", query, BIB_FIELDS)))

    # Plumbing

    def _list_bodies(self, path: str, query: BibQuery, default_fields: str) -> list[bytes]:
        """Raw bodies of a listing: one request, or one per chunk of an id list; 404/107 answers are skipped."""
        ids = query.pop("ids", None)
        params = _list_params(**_split_range(query), default_fields=default_fields)
        if ids is None:
            requests = [params]
        else:
            unique = sorted({int(record_id) for record_id in ids})
            params = {key: value for key, value in params.items() if key not in ("id", "offset")}
            requests = [
                {**params, "id": format_id_list(chunk), "limit": str(len(chunk))}
                for chunk in _chunks(unique, ID_CHUNK_SIZE)
            ]
        bodies = []
        for request_params in requests:
            try:
                bodies.append(self._request("GET", path, params=request_params).content)
            except SierraNotFoundError as exc:
                if exc.code != RECORD_NOT_FOUND_CODE:
                    raise
        return bodies

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
    ) -> httpx.Response:
        """Send one API request with a bearer token, re-authenticating once and retrying per the policy."""
        reauthenticated = False
        attempt = 0
        while True:
            token = self._access_token()
            try:
                response = self._send(
                    method, path, params=params, json=json_body, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.TransportError as exc:
                if method == "PUT" and not isinstance(exc, NOT_SENT_ERRORS):
                    raise _transport_failure(method, path, attempt, exc) from exc
                attempt = self._retry_or_raise_transport(method, path, attempt, exc)
                continue
            in_a_row = self._count_unavailable(response.status_code)
            if response.status_code < 400:
                return response
            error = error_from_response(response.status_code, response.content, method=method, path=path)
            self._raise_in_maintenance(in_a_row, error)
            if response.status_code == 401 and not reauthenticated:
                logger.info("Sierra refused the access token (HTTP 401 code %s); fetching a new one", error.code)
                reauthenticated = True
                self._invalidate_token(token)
                continue
            retryable = UNAPPLIED_WRITE_STATUSES if method == "PUT" else RETRYABLE_STATUSES
            retries = self._retries_for(response.status_code)
            if response.status_code in retryable and attempt < retries:
                attempt += 1
                self._backoff(method, path, attempt, retries, f"HTTP {response.status_code}", response.headers)
                continue
            raise error

    def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One HTTP request, inside the concurrency cap when there is one (a timeout or a 503 lowers it)."""
        if self.concurrency is None:
            return self._http.request(method, path, **options)
        self.concurrency.acquire()
        strained = False
        try:
            response = self._http.request(method, path, **options)
            strained = response.status_code == UNAVAILABLE_STATUS
            return response
        except httpx.TimeoutException as exc:
            strained = not isinstance(exc, httpx.PoolTimeout)
            raise
        finally:
            self.concurrency.release(strained=strained)

    def _count_unavailable(self, status_code: int) -> int:
        """How many 503 answers in a row this one makes (0 when it is not a 503)."""
        with self._unavailable_lock:
            self._unavailable_in_a_row = self._unavailable_in_a_row + 1 if status_code == UNAVAILABLE_STATUS else 0
            return self._unavailable_in_a_row

    def _raise_in_maintenance(self, in_a_row: int, error: SierraError) -> None:
        if in_a_row >= self._maintenance_threshold:
            raise SierraMaintenanceError(
                f"{error}; HTTP 503 {in_a_row} times in a row: Sierra is in a maintenance window",
                http_status=error.http_status,
                code=error.code,
                specific_code=error.specific_code,
                name=error.name,
                description=error.description,
            )

    def _retries_for(self, status_code: int) -> int:
        # A 503 is retried until the maintenance threshold decides, so a window is never mistaken for a failure.
        if status_code == UNAVAILABLE_STATUS:
            return max(self._retries, self._maintenance_threshold - 1)
        return self._retries

    def _retry_or_raise_transport(self, method: str, path: str, attempt: int, exc: httpx.TransportError) -> int:
        if attempt >= self._retries:
            raise _transport_failure(method, path, attempt, exc) from exc
        self._backoff(method, path, attempt + 1, self._retries, type(exc).__name__, None)
        return attempt + 1

    def _backoff(
        self, method: str, path: str, attempt: int, retries: int, reason: str, headers: httpx.Headers | None
    ) -> None:
        delay = min(self._backoff_max, self._backoff_base * 2 ** (attempt - 1))
        delay = self._random.uniform(delay / 2, delay)
        retry_after = headers.get("Retry-After") if headers is not None else None
        if retry_after is not None and retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after), self._backoff_max))
        logger.warning("Sierra %s %s: %s; retry %d of %d in %.2f s", method, path, reason, attempt, retries, delay)
        self._sleep(delay)

    def _access_token(self) -> str:
        with self._token_lock:
            if self._token is not None and self._clock() < self._token_refresh_at:
                return self._token
            return self._fetch_token()

    def _invalidate_token(self, rejected: str) -> None:
        # Only drop the token if no other thread has replaced it already, so that N threads seeing
        # the same expired token fetch one new token between them.
        with self._token_lock:
            if self._token == rejected:
                self._token = None

    def _fetch_token(self) -> str:
        attempt = 0
        credentials_refreshed = False
        while True:
            try:
                response = self._http.post(
                    "/token",
                    data={"grant_type": "client_credentials"},
                    auth=(self._key.get_secret_value(), self._secret.get_secret_value()),
                )
            except httpx.TransportError as exc:
                attempt = self._retry_or_raise_transport("POST", "/token", attempt, exc)
                continue
            in_a_row = self._count_unavailable(response.status_code)
            if response.status_code == 200:
                break
            error = error_from_response(response.status_code, response.content, method="POST", path="/token")
            self._raise_in_maintenance(in_a_row, error)
            logger.warning(
                "Sierra POST /token failed with HTTP %d: %s: %s",
                response.status_code,
                error.name or "-",
                error.description or "-",
                extra={
                    "http_status": response.status_code,
                    "error": error.name,
                    "error_description": error.description,
                },
            )
            retries = self._retries_for(response.status_code)
            if response.status_code in RETRYABLE_STATUSES and attempt < retries:
                attempt += 1
                self._backoff("POST", "/token", attempt, retries, f"HTTP {response.status_code}", response.headers)
                continue
            if response.status_code in (400, 401, 403):
                if self._refresh_credentials is not None and not credentials_refreshed:
                    # Credentials read from a secret may have been rotated since: read them again, once.
                    logger.info("Sierra refused the client credentials; reading them again")
                    credentials_refreshed = True
                    self._key, self._secret = self._refresh_credentials()
                    continue
                raise SierraAuthError(
                    str(error),
                    http_status=error.http_status,
                    code=error.code,
                    specific_code=error.specific_code,
                    name=error.name,
                    description=error.description,
                )
            raise error
        return self._store_token(response)

    def _store_token(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            token = str(body["access_token"])
            expires_in = float(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError) as exc:
            raise SierraError("Sierra POST /token returned no usable access token", http_status=200) from exc
        self._token = token
        self._token_refresh_at = self._clock() + expires_in - min(TOKEN_REFRESH_MARGIN_SECONDS, expires_in / 2)
        self.tokens_fetched += 1
        logger.info("Fetched a Sierra access token valid for %d s", expires_in)
        return token


def _transport_failure(method: str, path: str, attempt: int, exc: httpx.TransportError) -> SierraUnavailableError:
    return SierraUnavailableError(
        f"Sierra {method} {path} failed after {attempt + 1} attempts: {type(exc).__name__}: {exc}",
        name=type(exc).__name__,
        description=str(exc),
    )


def _list_params(
    *,
    id_range: tuple[int | None, int | None] = (None, None),
    updated_between: DateTimeRange | None = None,
    created_between: DateTimeRange | None = None,
    deleted_between: DateRange | None = None,
    deleted: bool | None = None,
    suppressed: bool | None = None,
    fields: str | None = None,
    limit: int = MAX_LIMIT,
    offset: int | None = None,
    default_fields: str = ITEM_SYNC_FIELDS,
) -> dict[str, str]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    params = {"fields": fields or default_fields, "limit": str(limit)}
    if id_range != (None, None):
        params["id"] = format_id_range(*id_range)
    if offset is not None:
        params["offset"] = str(offset)
    if updated_between is not None:
        params["updatedDate"] = format_datetime_range(*updated_between)
    if created_between is not None:
        params["createdDate"] = format_datetime_range(*created_between)
    if deleted_between is not None:
        params["deletedDate"] = format_date_range(*deleted_between)
    if deleted is not None:
        params["deleted"] = "true" if deleted else "false"
    if suppressed is not None:
        params["suppressed"] = "true" if suppressed else "false"
    return params


def _split_range(query: Mapping[str, Any]) -> dict[str, Any]:
    """Query keywords with `id_range_start`/`id_range_end` folded into `id_range` for `_list_params`."""
    options = {key: value for key, value in query.items() if key not in ("id_range_start", "id_range_end")}
    options["id_range"] = (query.get("id_range_start"), query.get("id_range_end"))
    return options


def _merge_raw(bodies: list[bytes]) -> dict[str, Any]:
    pages: list[dict[str, Any]] = [json.loads(body) for body in bodies]
    if not pages:
        return {"total": 0, "start": 0, "entries": []}
    if len(pages) == 1:
        return pages[0]
    entries = [entry for page in pages for entry in page["entries"]]
    entries.sort(key=lambda entry: int(entry["id"]))
    return {"total": len(entries), "start": 0, "entries": entries}


def _merge_pages(bodies: list[bytes]) -> ItemPage:
    if not bodies:
        return ItemPage()
    if len(bodies) == 1:
        return ItemPage.model_validate_json(bodies[0])
    pages = [ItemPage.model_validate_json(body) for body in bodies]
    merged = ItemPage()
    for page in pages:
        merged.entries.extend(page.entries)
    merged.entries.sort(key=lambda record: record.int_id)
    merged.total = len(merged.entries)
    return merged
