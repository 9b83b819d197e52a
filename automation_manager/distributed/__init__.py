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

Quota, budget and overlap stay reserved in the scheduler's state database (one
transaction per admission, as on one machine): the lease makes it the one admitting
process of the home. The publish ledger stays in the home (file locks), which workers
share through the same folder.

Nothing here is imported unless the executor is ``celery``.
"""
