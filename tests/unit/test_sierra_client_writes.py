"""SierraClient PUT retries: only when Sierra cannot have applied the write, so a write never lands twice."""

from collections.abc import Callable

import httpx
import pytest

from tarroitus.sierra import SierraClient, SierraError, SierraUnavailableError

Responder = Callable[[httpx.Request], httpx.Response]


def client_answering(*answers: Responder | type[httpx.TransportError]) -> tuple[SierraClient, list[str]]:
    """A client whose item requests get `answers` in turn (a TransportError class is raised instead)."""
    seen: list[str] = []
    pending = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "token_type": "bearer", "expires_in": 3600})
        seen.append(request.method)
        answer = pending.pop(0)
        if isinstance(answer, type):
            raise answer("simulated", request=request)
        return answer(request)

    client = SierraClient(
        "http://sierra.test/iii/sierra-api/v6",
        "key",
        "secret",
        retries=3,
        transport=httpx.MockTransport(handle),
        sleep=lambda _seconds: None,
    )
    return client, seen


def status(code: int) -> Responder:
    return lambda _request: httpx.Response(code, json={"code": 0, "httpStatus": code, "name": "x"})


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError])
def test_update_item_is_not_retried_when_the_write_may_have_landed(error: type[httpx.TransportError]) -> None:
    # Given the connection fails after the PUT was sent
    client, seen = client_answering(error, status(204))
    # When / Then
    with pytest.raises(SierraUnavailableError, match=error.__name__):
        client.update_item(1000001, {"inventoryDate": "2026-11-22"})
    assert seen == ["PUT"]


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_update_item_is_retried_when_the_request_never_left(error: type[httpx.TransportError]) -> None:
    # Given the first PUT never reached Sierra
    client, seen = client_answering(error, status(204))
    # When
    client.update_item(1000001, {"inventoryDate": "2026-11-22"})
    # Then
    assert seen == ["PUT", "PUT"]


@pytest.mark.parametrize(("code", "retried"), [(409, True), (429, True), (503, True), (500, False), (504, False)])
def test_update_item_is_retried_only_on_statuses_that_prove_nothing_was_applied(code: int, retried: bool) -> None:
    # Given one error answer, then success
    client, seen = client_answering(status(code), status(204))
    # When
    if retried:
        client.update_item(1000001, {"inventoryDate": "2026-11-22"})
    else:
        with pytest.raises(SierraError):
            client.update_item(1000001, {"inventoryDate": "2026-11-22"})
    # Then
    assert seen == ["PUT", "PUT"] if retried else ["PUT"]


def test_get_item_is_still_retried_after_a_read_timeout() -> None:
    # Given
    client, seen = client_answering(httpx.ReadTimeout, lambda _request: httpx.Response(200, json={"id": "1000001"}))
    # When
    item = client.get_item(1000001)
    # Then
    assert (item.int_id, seen) == (1000001, ["GET", "GET"])
