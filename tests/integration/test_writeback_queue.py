"""The writeback queue repository: SKIP LOCKED claims, owner-checked outcomes, stale claims, releases, retries."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tarroitus.domain import WritebackStatus
from tarroitus.models import WritebackEntry
from tarroitus.repositories import writeback as queue
from tarroitus.repositories.transactions import session_scope
from tests.factories import make_item

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def queue_items(session: Session, ids: range | list[int], *, classification: str = "84.2", at: datetime = NOW) -> None:
    """Items in the catalogue and in the writeback queue."""
    for item_id in ids:
        make_item(session, item_record_id=item_id)
    for item_id in ids:
        queue.enqueue_item(session, item_record_id=item_id, classification=classification, now=at)
    session.flush()


def entry(session: Session, item_id: int) -> WritebackEntry:
    found = queue.get_entry(session, item_record_id=item_id)
    assert found is not None
    return found


def test_claim_batch_marks_rows_in_progress_and_counts_the_attempt(db_session: Session) -> None:
    # Given three due items
    queue_items(db_session, [3, 1, 2])
    # When
    claimed = queue.claim_batch(db_session, owner="run-a", now=NOW, limit=2)
    # Then the two first due are held by run-a
    assert [(c.item_record_id, c.classification, c.attempts, c.reclaimed_from) for c in claimed] == [
        (1, "84.2", 1, None),
        (2, "84.2", 1, None),
    ]
    row = entry(db_session, 1)
    assert (row.status, row.claimed_by, row.claimed_at) == (WritebackStatus.IN_PROGRESS, "run-a", NOW)
    assert [c.item_record_id for c in queue.claim_batch(db_session, owner="run-b", now=NOW, limit=5)] == [3]
    assert queue.claim_batch(db_session, owner="run-c", now=NOW, limit=5) == []


def test_claim_batch_skips_rows_another_transaction_has_locked(committed_db: Engine) -> None:
    # Given ten queued items
    with session_scope(committed_db) as session:
        queue_items(session, range(1, 11))
    # When two claimers run at once, the first not yet committed
    with session_scope(committed_db) as first:
        first_claim = queue.claim_batch(first, owner="run-a", now=NOW, limit=6)
        with session_scope(committed_db) as second:
            second_claim = queue.claim_batch(second, owner="run-b", now=NOW, limit=6)
    # Then they share nothing and together hold everything
    first_ids = {c.item_record_id for c in first_claim}
    second_ids = {c.item_record_id for c in second_claim}
    assert len(first_ids) == 6
    assert first_ids.isdisjoint(second_ids)
    assert first_ids | second_ids == set(range(1, 11))


def test_claim_batch_leaves_rows_that_are_not_due(db_session: Session) -> None:
    # Given an item waiting for its retry
    queue_items(db_session, [1, 2])
    queue.claim_batch(db_session, owner="run-a", now=NOW, limit=1)
    queue.schedule_retry(
        db_session, item_record_id=1, owner="run-a", next_attempt_at=NOW + timedelta(minutes=1), error_code=1, error="x"
    )
    # When / Then
    assert [c.item_record_id for c in queue.claim_batch(db_session, owner="run-b", now=NOW, limit=5)] == [2]
    later = queue.claim_batch(db_session, owner="run-b", now=NOW + timedelta(minutes=1), limit=5)
    assert [(c.item_record_id, c.attempts) for c in later] == [(1, 2)]


def test_claim_batch_takes_over_abandoned_claims_after_the_visibility_timeout(db_session: Session) -> None:
    # Given a claim whose holder crashed
    queue_items(db_session, [1])
    queue.claim_batch(db_session, owner="crashed", now=NOW, limit=5)
    # When
    too_early = queue.claim_batch(db_session, owner="run-b", now=NOW + timedelta(minutes=14), limit=5)
    taken = queue.claim_batch(db_session, owner="run-b", now=NOW + queue.CLAIM_VISIBILITY_TIMEOUT, limit=5)
    # Then
    assert too_early == []
    assert [(c.item_record_id, c.attempts, c.reclaimed_from) for c in taken] == [(1, 2, "crashed")]
    assert not queue.mark_done(db_session, item_record_id=1, owner="crashed", now=NOW, sierra_updated_at=None)
    assert entry(db_session, 1).claimed_by == "run-b"


def test_outcomes_apply_only_to_the_holder(db_session: Session) -> None:
    # Given three claimed items
    queue_items(db_session, [1, 2, 3])
    queue.claim_batch(db_session, owner="run-a", now=NOW, limit=5)
    written_at = NOW + timedelta(seconds=2)
    # When
    assert not queue.mark_done(db_session, item_record_id=1, owner="run-b", now=NOW, sierra_updated_at=written_at)
    assert queue.mark_done(db_session, item_record_id=1, owner="run-a", now=NOW, sierra_updated_at=written_at)
    assert queue.schedule_retry(
        db_session, item_record_id=2, owner="run-a", next_attempt_at=NOW, error_code=133, error="HTTP 409 locked"
    )
    assert queue.dead_letter(db_session, item_record_id=3, owner="run-a", now=NOW, error_code=116, error="HTTP 400")
    # Then
    done, retry, dead = entry(db_session, 1), entry(db_session, 2), entry(db_session, 3)
    assert (done.status, done.sierra_updated_at, done.completed_at, done.claimed_by) == (
        WritebackStatus.DONE,
        written_at,
        NOW,
        None,
    )
    assert (retry.status, retry.last_error_code, retry.last_error, retry.claimed_by) == (
        WritebackStatus.QUEUED,
        133,
        "HTTP 409 locked",
        None,
    )
    assert (dead.status, dead.last_error_code, dead.attempts) == (WritebackStatus.DEAD, 116, 1)


def test_a_reprint_during_the_attempt_is_not_clobbered(db_session: Session) -> None:
    # Given an item being written when a reprint queues it with a newer classification
    queue_items(db_session, [1])
    queue.claim_batch(db_session, owner="run-a", now=NOW, limit=5)
    queue.enqueue_item(db_session, item_record_id=1, classification="85.1", now=NOW + timedelta(seconds=1))
    # Then nobody else may claim it while run-a still writes
    assert queue.claim_batch(db_session, owner="run-b", now=NOW + timedelta(seconds=2), limit=5) == []
    # When run-a finishes
    written_at = NOW + timedelta(seconds=3)
    assert not queue.mark_done(db_session, item_record_id=1, owner="run-a", now=NOW, sierra_updated_at=written_at)
    # Then the reprint's work stays queued, claimable, and the write is still recognisable
    row = entry(db_session, 1)
    assert (row.status, row.classification, row.claimed_by, row.sierra_updated_at) == (
        WritebackStatus.QUEUED,
        "85.1",
        None,
        written_at,
    )
    again = queue.claim_batch(db_session, owner="run-b", now=NOW + timedelta(seconds=4), limit=5)
    assert [(c.classification, c.attempts) for c in again] == [("85.1", 1)]


def test_release_claims_gives_rows_back_without_counting_the_attempt(db_session: Session) -> None:
    # Given
    queue_items(db_session, [1, 2])
    queue.claim_batch(db_session, owner="run-a", now=NOW, limit=5)
    queue.enqueue_item(db_session, item_record_id=2, classification="85.1", now=NOW)
    # When
    released = queue.release_claims(db_session, owner="run-a", item_record_ids=[1, 2])
    # Then
    assert released == 1
    assert [(r.status, r.attempts, r.claimed_by) for r in (entry(db_session, 1), entry(db_session, 2))] == [
        (WritebackStatus.QUEUED, 0, None),
        (WritebackStatus.QUEUED, 0, None),
    ]
    assert queue.release_claims(db_session, owner="run-a", item_record_ids=[]) == 0


def test_requeue_dead_all_or_by_id(db_session: Session) -> None:
    # Given three dead letters and one done item
    queue_items(db_session, [1, 2, 3, 4])
    queue.claim_batch(db_session, owner="run-a", now=NOW, limit=5)
    for item_id in (1, 2, 3):
        queue.dead_letter(db_session, item_record_id=item_id, owner="run-a", now=NOW, error_code=116, error="bad")
    queue.mark_done(db_session, item_record_id=4, owner="run-a", now=NOW, sierra_updated_at=None)
    # When
    by_id = queue.requeue_dead(db_session, now=NOW, item_record_ids=[2, 4])
    rest = queue.requeue_dead(db_session, now=NOW)
    # Then
    assert (by_id, rest) == ([2], [1, 3])
    assert entry(db_session, 4).status == WritebackStatus.DONE
    assert [(r.status, r.attempts) for r in (entry(db_session, 1), entry(db_session, 2))] == [
        (WritebackStatus.QUEUED, 0),
        (WritebackStatus.QUEUED, 0),
    ]


def test_count_by_status_splits_due_from_waiting(db_session: Session) -> None:
    # Given
    queue_items(db_session, [1, 2, 3, 4])
    queue.claim_batch(db_session, owner="run-a", now=NOW, limit=3)
    queue.schedule_retry(
        db_session, item_record_id=1, owner="run-a", next_attempt_at=NOW + timedelta(hours=1), error_code=1, error="x"
    )
    queue.dead_letter(db_session, item_record_id=2, owner="run-a", now=NOW, error_code=None, error="x")
    # When
    counts = queue.count_by_status(db_session, now=NOW)
    # Then
    assert counts == {"queued": 2, "waiting_retry": 1, "in_progress": 1, "done": 0, "dead": 1}
    assert queue.oldest_queued_at(db_session) == NOW


def test_attempts_are_listed_newest_first(db_session: Session) -> None:
    # Given
    queue_items(db_session, [1])
    for seconds, outcome in ((1, "failed_retrying"), (2, "written")):
        queue.add_attempt(
            db_session,
            item_record_id=1,
            attempted_at=NOW + timedelta(seconds=seconds),
            outcome=outcome,
            classification="84.2",
        )
    db_session.flush()
    # When / Then
    assert [a.outcome for a in queue.list_attempts(db_session, item_record_id=1)] == ["written", "failed_retrying"]
    assert [a.outcome for a in queue.list_attempts(db_session, outcomes=["failed_retrying"])] == ["failed_retrying"]
