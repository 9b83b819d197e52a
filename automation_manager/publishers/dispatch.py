"""Never twice: one (item, platform) pair, sent at most once, whatever happens.

:func:`publish_once` holds the pair's claim, reads its ledger state and then:

- ``done``: returns the stored receipt; nothing is sent;
- ``failed`` for good: raises the stored reason; nothing is sent;
- ``uncertain`` (an intent without an outcome: a timeout, or a crash after the request
  left): asks the platform first (:meth:`Publisher.reconcile`) and sends only when the
  platform certainly does not have it;
- ``new``: writes the ``intent`` (flushed), sends, writes ``done`` with the remote id.

A refusal (4xx) is recorded as a final failure; an auth failure or a request that never
left is recorded as not delivered, so the next run simply tries again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..errors import AuthError, PublishUncertain, TaskError, TransientError
from .base import Parts, Publisher, Receipt, Sleep
from .ledger import Ledger, Pair, PairState
from .post import Post

SEND_ROUNDS = 3
"""Sends of one pair within a run when the platform says an unsure one did not arrive."""


def stored_receipt(pair: Pair) -> Receipt:
    """The receipt a ``done`` pair recorded."""
    return Receipt(
        remote_id=str(pair.remote_id),
        url=pair.url,
        status=pair.status or "published",
        live_at=pair.live_at,
    )


class Dispatcher:
    """Applies the ledger protocol around a publisher's calls.

    :param now: the run's clock (times written to the ledger).
    :param sleep: waits between a lost answer and the follow-up question.
    """

    def __init__(self, ledger: Ledger, now: Callable[[], datetime], sleep: Sleep) -> None:
        self.ledger = ledger
        self.now = now
        self.sleep = sleep

    def publish_once(self, publisher: Publisher, post: Post) -> Receipt:
        """Publish ``post`` on ``publisher``'s platform unless it already is there.

        :raises TaskError: refused for good (also from an earlier run).
        :raises AuthError: credentials refused; nothing was published.
        :raises TransientError: try again later (an unsure send stays to be reconciled).
        """
        with self.ledger.claim(post.item_id, publisher.name) as pair:
            if pair.state is PairState.DONE:
                return stored_receipt(pair)
            if pair.state is PairState.FAILED:
                raise TaskError(pair.error or f"{publisher.name}: failed earlier")
            parts = self._parts(publisher, post, pair)
            if pair.state is PairState.UNCERTAIN:
                found = self._reconcile(publisher, post, pair, parts)
                if found is not None:
                    return found
            return self._send(publisher, post, parts)

    def _parts(self, publisher: Publisher, post: Post, pair: Pair) -> Parts:
        def write(name: str, remote_id: str | None, url: str | None) -> None:
            self.ledger.record(
                "part",
                post.item_id,
                publisher.name,
                self.now(),
                part=name,
                remote_id=remote_id,
                url=url,
            )

        return Parts(done=dict(pair.parts), on_record=write)

    def _send(self, publisher: Publisher, post: Post, parts: Parts) -> Receipt:
        record = self.ledger.record
        item, name = post.item_id, publisher.name
        for round_no in range(1, SEND_ROUNDS + 1):
            record("intent", item, name, self.now(), round=round_no)
            try:
                receipt = publisher.send(post, parts)
            except PublishUncertain as exc:
                if publisher.reconciles_by_resending:
                    raise  # its client already resent; the next run resends once more
                self.sleep(exc.retry_after or 2.0 * round_no)
                pair = self.ledger.pair(item, name)
                found = self._reconcile(publisher, post, pair, parts, lost=exc)
                if found is not None:
                    return found
                continue  # the platform certainly has nothing: send again
            except AuthError as exc:
                record("failed", item, name, self.now(), error=str(exc), final=False)
                raise
            except TransientError as exc:
                record("failed", item, name, self.now(), error=str(exc), final=False)
                raise
            except TaskError as exc:
                record("failed", item, name, self.now(), error=str(exc), final=True)
                raise
            return self._done(post, publisher, receipt)
        raise TransientError(
            f"{name}: {SEND_ROUNDS} sends of {item} got no clear answer; the next run "
            "checks again before sending"
        )

    def _reconcile(
        self,
        publisher: Publisher,
        post: Post,
        pair: Pair,
        parts: Parts,
        lost: PublishUncertain | None = None,
    ) -> Receipt | None:
        """Ask the platform about an unsure send: its receipt, or None when it is not
        there (recorded as not delivered). A platform that cannot answer leaves the
        intent open and raises.
        """
        item, name = post.item_id, publisher.name
        horizon = publisher.idempotency_horizon
        sent = pair.intent_at
        if horizon is not None and sent is not None and self.now() - sent > horizon:
            why = (
                f"{publisher.kind} forgets resends after {horizon}"
                if horizon
                else f"{publisher.kind} cannot be asked whether it arrived"
            )
            reason = (
                f"{name}: the send of {sent:%Y-%m-%d %H:%M} got no answer and {why}; look on "
                f"{name} whether it is there; if not, run `amgr content retry {item}`"
            )
            self.ledger.record("failed", item, name, self.now(), error=reason, final=True)
            raise TaskError(reason)
        try:
            found = publisher.reconcile(post, pair, parts)
        except PublishUncertain:
            raise
        except (AuthError, TransientError) as exc:
            raise (lost or exc) from None
        if found is None:
            record = self.ledger.record
            record("failed", item, name, self.now(), error="not on the platform", final=False)
            return None
        return self._done(post, publisher, found)

    def _done(self, post: Post, publisher: Publisher, receipt: Receipt) -> Receipt:
        self.ledger.record(
            "done",
            post.item_id,
            publisher.name,
            self.now(),
            remote_id=receipt.remote_id,
            url=receipt.url,
            status=receipt.status,
            live_at=receipt.live_at.isoformat() if receipt.live_at else None,
        )
        return receipt
