"""Runs on Celery workers over Redis (config.json ``executor.kind: "celery"``).

The scheduler stays one process per home (the daemon): it decides firings, admits them
(quota, budget, overlap in its state database), sends each run to a Celery queue and
waits for its record over the result backend; it remains the one writer of the run log
and the state database. Workers (``amgr worker``) run the same executors on their copy
of the home's three files.

- :mod:`.settings`: the broker URL (secret-registered), Redis keys, queue routing.
- :mod:`.app`: the Celery app, built lazily (``celery`` is imported only here).
- :mod:`.worker`: the task body on a worker: claim, heartbeat, perform, answer.
- :mod:`.remote`: the scheduler side: send, wait, detect a lost worker, broker incidents.
- :mod:`.lease`: the fenced scheduler lease (``SET NX PX``, renewal, fencing token).
- :mod:`.backend`: Celery's Redis result backend, polled and never subscribed.
- :mod:`.overview`: workers and queue depth for ``amgr status`` and ``amgr check``.

- :mod:`.reserve`: admission's reservations (quota, budget, overlap) in Redis.
- :mod:`.pairs`: the publish ledger's pairs and claims in Redis.
- :mod:`.artifacts`: a run's files back with its result; its run file out with the message.
- :mod:`.control`: pause and cancel of a run on a worker, through Redis.

What was made and spent comes from the scheduler's run log; what running runs hold is
reserved in Redis, atomically (:mod:`.reserve`), so a standby or another machine's
``exec-now`` reserves against the same counters. Workers may share the home's folder
or have homes of their own: the ledger's word is in Redis and a run's files come back.

Nothing here is imported unless the executor is ``celery``.
"""
