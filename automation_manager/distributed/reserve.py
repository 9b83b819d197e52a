"""Admission's reservations in Redis, when the executor is celery.

With the local executor a run's reservation (its quota slots and budget estimate) is a
row of the scheduler's state database. Distributed, it lives in Redis so that every
process of one namespace — a scheduler, its standby after a takeover, ``amgr exec-now``
on another machine — reserves against the same counters, in one atomic step
(:data:`RESERVE`, a Lua script registered with ``register_script``):

- ``NS:adm:DAY:content|ebooks|cost|spent``: hashes record id → what the run holds that
  day (``DAY``: the configured timezone's date, as on one machine);
- ``NS:adm:tasks``: hash task id → the record id running it (a task never overlaps);
- ``NS:adm:rec:ID``: the reservation's owner (host, pid, process token) and day.

What was *made and spent* today still comes from the run log (the scheduler is its one
writer; :mod:`..engine.admission` reads it from the state database and passes it in):
the script adds what running runs hold and refuses a run that would pass a limit. A
record settles its reservation (:data:`SETTLE`) right after it is counted from the log,
so for a moment the run is counted twice — never zero times: a limit can be reached
early, never passed.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import SkipRun
from ..procs import is_alive, own_token

if TYPE_CHECKING:
    import redis

    from ..config import Workspace
    from ..home import Home
    from ..logs.records import Usage
    from .settings import Keys

log = logging.getLogger(__name__)

RESERVE = """
local prefix, rid, task = ARGV[1], ARGV[2], ARGV[3]
local stored, content, ebooks = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local cost = tonumber(ARGV[7])
local function made(field, arg)
  return math.max(tonumber(arg), tonumber(redis.call('hget', KEYS[7], field) or '0'))
end
local made_content, made_ebooks = made('content', ARGV[8]), made('ebooks', ARGV[9])
local max_content, max_ebooks = tonumber(ARGV[10]), tonumber(ARGV[11])
local spent = made('usd', ARGV[12])
local budget = tonumber(ARGV[13])
local ttl = tonumber(ARGV[14])
local function total(key)
  local sum = 0
  for _, v in ipairs(redis.call('hvals', key)) do sum = sum + tonumber(v) end
  return sum
end
if redis.call('exists', KEYS[6]) == 1 then return {'held', rid} end
if stored == 1 then
  local holder = redis.call('hget', KEYS[5], task)
  if holder then return {'overlap', holder} end
end
local held_content = total(KEYS[1])
if content > 0 and max_content >= 0 and made_content + held_content >= max_content then
  return {'content', tostring(held_content), tostring(made_content)}
end
local held_ebooks = total(KEYS[2])
if ebooks > 0 and max_ebooks >= 0 and made_ebooks + held_ebooks >= max_ebooks then
  return {'ebooks', tostring(held_ebooks), tostring(made_ebooks)}
end
local held_usd = 0
local costs = redis.call('hgetall', KEYS[3])
for i = 1, #costs, 2 do
  local so_far = tonumber(redis.call('hget', KEYS[4], costs[i]) or '0')
  held_usd = held_usd + math.max(tonumber(costs[i + 1]), so_far)
end
if cost > 0 and budget >= 0 and spent + held_usd + cost > budget then
  return {'budget', tostring(held_usd), tostring(spent)}
end
redis.call('hset', KEYS[1], rid, content)
redis.call('hset', KEYS[2], rid, ebooks)
redis.call('hset', KEYS[3], rid, ARGV[7])
if stored == 1 then redis.call('hset', KEYS[5], task, rid) end
redis.call('hset', KEYS[6], 'day', ARGV[15], 'task', task, 'host', ARGV[16],
           'pid', ARGV[17], 'token', ARGV[18], 'created', ARGV[19])
for i = 1, 4 do redis.call('expire', KEYS[i], ttl) end
redis.call('expire', KEYS[6], ttl)
return {'ok', tostring(held_content), tostring(held_usd)}
"""
"""KEYS: day content, ebooks, cost, spent; tasks; the record's owner hash; the day's made
hash (what settled records counted: content, ebooks, usd; the larger of it and the log's
figure counts, so a scheduler whose log misses another's records still sees them).
ARGV: prefix, record id, task id, stored, content, ebooks, cost (with the safety factor),
made content, made ebooks, max content (-1: unchecked), max ebooks, spent today,
budget (-1: none), ttl s, day, host, pid, token, created."""

SETTLE = """
local day = redis.call('hget', KEYS[1], 'day')
if day then
  local task = redis.call('hget', KEYS[1], 'task')
  local base = ARGV[1] .. ':adm:' .. day .. ':'
  for _, name in ipairs({'content', 'ebooks', 'cost', 'spent'}) do
    redis.call('hdel', base .. name, ARGV[2])
  end
  if task and redis.call('hget', KEYS[2], task) == ARGV[2] then
    redis.call('hdel', KEYS[2], task)
  end
  redis.call('del', KEYS[1])
end
if ARGV[3] ~= '' and redis.call('sadd', KEYS[4], ARGV[2]) == 1 then
  redis.call('hincrby', KEYS[3], 'content', tonumber(ARGV[3]))
  redis.call('hincrby', KEYS[3], 'ebooks', tonumber(ARGV[4]))
  redis.call('hincrbyfloat', KEYS[3], 'usd', ARGV[5])
  redis.call('expire', KEYS[3], tonumber(ARGV[6]))
  redis.call('expire', KEYS[4], tonumber(ARGV[6]))
end
if day then return 1 end
return 0
"""
"""KEYS: the record's owner hash, tasks, the record's day's made hash and its settled
set; ARGV: prefix, record id, then what the record counts (content, ebooks, USD; '':
nothing, a reservation dropped without a record) and the ttl. Drops the reservation and
counts the record once (by its id) into the day's totals."""

PROGRESS = """
local day = redis.call('hget', KEYS[1], 'day')
if not day then return 0 end
local key = ARGV[1] .. ':adm:' .. day .. ':spent'
redis.call('hset', key, ARGV[2], ARGV[3])
redis.call('expire', key, tonumber(ARGV[4]))
redis.call('hset', KEYS[1], 'prompt', ARGV[5], 'completion', ARGV[6], 'calls', ARGV[7])
return 1
"""
"""KEYS: the record's owner hash; ARGV: prefix, record id, spent so far, ttl s, prompt
and completion tokens, calls."""

TTL_S = 8 * 86_400
"""A reservation no one settles (its scheduler's machine is gone) lapses after this:
longer than the longest run (``timeout_s`` ≤ 7 days)."""
STALE_EVERY_S = 10.0
"""How often :meth:`RedisReservations.drop_stale` looks (one scan of every owner)."""


class BrokerDown(SkipRun):
    """Reservations cannot be made: Redis does not answer (the run is not sent)."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(f"broker unreachable: cannot reserve quota and budget in Redis ({exc})")
        self.cause = exc


@dataclass(frozen=True)
class Refused:
    """Why :meth:`RedisReservations.reserve` refused: which limit, and what runs hold."""

    limit: str
    """``overlap``, ``content``, ``ebooks``, ``budget`` or ``held`` (reserved already)."""
    holder: str = ""
    held: int = 0
    """Content items (or ebooks) held by running runs."""
    made: float = 0.0
    """Content items (or ebooks, or USD spent) made today, as the check counted them."""
    held_usd: float = 0.0


@dataclass(frozen=True)
class Ask:
    """One run's reservation request and the limits it is checked against."""

    record_id: str
    task_id: str
    day: str
    stored: bool
    content: int
    ebooks: int
    cost_usd: float
    made_content: int
    made_ebooks: int
    max_content: int | None
    max_ebooks: int | None
    spent_usd: float
    budget_usd: float | None
    created_at: str


class RedisReservations:
    """Admission's reservations of one namespace in Redis. See the module docstring."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.prefix = keys.ns
        self._reserve = client.register_script(RESERVE)
        self._settle = client.register_script(SETTLE)
        self._progress = client.register_script(PROGRESS)
        self._host = socket.gethostname()
        self._stale_at = 0.0

    def _day(self, day: str, name: str) -> str:
        return f"{self.prefix}:adm:{day}:{name}"

    def _owner(self, record_id: str) -> str:
        return f"{self.prefix}:adm:rec:{record_id}"

    def _tasks(self) -> str:
        return f"{self.prefix}:adm:tasks"

    def reserve(self, ask: Ask) -> Refused | None:
        """Reserve atomically; None when reserved, else what refused it."""
        day = ask.day
        keys = [
            *(self._day(day, n) for n in ("content", "ebooks", "cost", "spent")),
            self._tasks(),
            self._owner(ask.record_id),
            self._day(day, "made"),
        ]
        args: list[str | int | float] = [
            self.prefix,
            ask.record_id,
            ask.task_id,
            int(ask.stored),
            ask.content,
            ask.ebooks,
            repr(float(ask.cost_usd)),
            ask.made_content,
            ask.made_ebooks,
            -1 if ask.max_content is None else ask.max_content,
            -1 if ask.max_ebooks is None else ask.max_ebooks,
            repr(float(ask.spent_usd)),
            -1 if ask.budget_usd is None else repr(float(ask.budget_usd)),
            TTL_S,
            day,
            self._host,
            os.getpid(),
            own_token(),
            ask.created_at,
        ]
        try:
            answer = [str(v) for v in self._reserve(keys=keys, args=args)]
        except Exception as exc:  # redis.RedisError and socket errors alike
            raise BrokerDown(exc) from None
        what = answer[0]
        if what == "ok":
            return None
        if what in ("overlap", "held"):
            return Refused(what, holder=answer[1])
        if what in ("content", "ebooks"):
            return Refused(what, held=int(float(answer[1])), made=float(answer[2]))
        return Refused(what, held_usd=float(answer[1]), made=float(answer[2]))

    def settle(
        self, record_id: str, counts: tuple[int, int, float] | None = None, day: str = ""
    ) -> bool:
        """Drop the run's reservation and count its record once into ``day``'s totals.

        :param counts: what the record counts (content, ebooks, USD); None: no record
            (a reservation released).
        :returns: whether it held a reservation.
        """
        day = day or "none"
        keys = [
            self._owner(record_id),
            self._tasks(),
            self._day(day, "made"),
            self._day(day, "settled"),
        ]
        args: list[str | int | float] = [self.prefix, record_id, "", 0, "0", TTL_S]
        if counts is not None:
            args[2:5] = [counts[0], counts[1], repr(float(counts[2]))]
        return bool(self._settle(keys=keys, args=args))

    def progress(self, record_id: str, usage: Usage) -> None:
        """Note what a running run has spent so far (it counts against the budget)."""
        self._progress(
            keys=[self._owner(record_id)],
            args=[
                self.prefix,
                record_id,
                repr(float(usage.cost_usd)),
                TTL_S,
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.calls,
            ],
        )

    def spent_by(self, record_id: str) -> Usage | None:
        """What a run noted as spent so far (None: nothing, or no reservation)."""
        from ..logs.records import Usage

        owner = self.client.hgetall(self._owner(record_id))
        if not owner.get("day") or not owner.get("calls"):
            return None
        value = self.client.hget(self._day(str(owner["day"]), "spent"), record_id)
        return Usage(
            prompt_tokens=int(owner.get("prompt") or 0),
            completion_tokens=int(owner.get("completion") or 0),
            cost_usd=float(value or 0.0),
            calls=int(owner["calls"]),
        )

    def held(self, day: str) -> tuple[int, int, float, dict[str, str]]:
        """What running runs hold on ``day``: content, ebooks, USD, record id → task id."""
        pipe = self.client.pipeline()
        for name in ("content", "ebooks", "cost", "spent"):
            pipe.hgetall(self._day(day, name))
        content, ebooks, cost, spent = pipe.execute()
        usd = sum(max(float(v), float(spent.get(k, 0.0))) for k, v in cost.items())
        owners = {rid: str(self.client.hget(self._owner(rid), "task") or "") for rid in content}
        return (
            sum(int(v) for v in content.values()),
            sum(int(v) for v in ebooks.values()),
            round(usd, 8),
            owners,
        )

    def drop_stale(self, inflight_dir: os.PathLike[str] | str) -> int:
        """Drop reservations of this machine's processes that are gone and left no
        in-flight note (as the local admission does); other machines' lapse by TTL."""
        import time
        from pathlib import Path

        if time.monotonic() < self._stale_at:
            return 0
        self._stale_at = time.monotonic() + STALE_EVERY_S
        dropped = 0
        try:
            for key in list(self.client.scan_iter(f"{self.prefix}:adm:rec:*", count=500)):
                owner = self.client.hgetall(key)
                if owner.get("host") != self._host:
                    continue
                record_id = str(key).rsplit(":", 1)[-1]
                if is_alive(int(owner.get("pid") or 0), str(owner.get("token") or "")):
                    continue
                if (Path(inflight_dir) / f"{record_id}.json").exists():
                    continue
                dropped += self.settle(record_id)
        except SkipRun:
            raise
        except Exception as exc:
            raise BrokerDown(exc) from None
        return dropped


def remote_reservations(home: Home, ws: Workspace | None = None) -> RedisReservations | None:
    """The Redis reservations of ``home`` when its executor is celery, else None."""
    from .settings import Keys, for_namespace

    return for_namespace(home, ws, lambda client, ns: RedisReservations(client, Keys(ns)))
