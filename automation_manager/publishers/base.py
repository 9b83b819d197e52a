"""The one small interface every platform implements.

A :class:`Publisher` turns a :class:`~.post.Post` into something live on one platform
(:meth:`Publisher.send`), finds out whether an unsure earlier send went through
(:meth:`Publisher.reconcile`) and tests its credentials without posting
(:meth:`Publisher.check`). The never-twice bookkeeping around these calls lives in
:mod:`.dispatch`, not in the platforms.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ..config.platforms import AnyPlatform
    from ..home import Home
    from .ledger import Pair
    from .post import Post

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Receipt:
    """What a platform confirmed.

    :param remote_id: the platform's id of the post (or a path, for files).
    :param url: where a person can see it, if anywhere.
    :param status: ``published``, ``scheduled``, ``draft`` or ``ready (outbox)``.
    :param live_at: when it goes live, for a post scheduled on the platform itself.
    :param extra: platform details; ``note`` is shown in the run's report.
    """

    remote_id: str
    url: str | None = None
    status: str = "published"
    live_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of_thread(cls, posted: list[dict[str, Any]]) -> Receipt:
        """A thread's receipt: its first post's id and URL, every post's id in order
        (``posted``: the entries of :attr:`Parts.done` it posted, each with
        ``remote_id`` and ``url``)."""
        first = posted[0]
        return cls(
            remote_id=str(first["remote_id"]),
            url=first.get("url"),
            extra={"thread": [p["remote_id"] for p in posted]},
        )


@dataclass
class Parts:
    """Pieces of a multi-request publish (thread statuses, an uploaded image).

    ``done`` holds what the ledger already knows from an earlier, interrupted attempt;
    :meth:`record` writes a newly finished piece to the ledger at once.
    """

    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    on_record: Callable[[str, str | None, str | None], None] | None = None

    def record(self, name: str, remote_id: str | None, url: str | None = None) -> None:
        self.done[name] = {"remote_id": remote_id, "url": url}
        if self.on_record is not None:
            self.on_record(name, remote_id, url)


@dataclass
class PublishEnv:
    """What a publisher may use besides its config: the home, a clock and a sleep.

    :param sleep: waits between retries (tests pass a fake one).
    :param attempts: tries per request before a failure is handed back.
    """

    home: Home
    now: Callable[[], datetime]
    sleep: Sleep
    attempts: int = 4


class Publisher(ABC):
    """One configured platform.

    :param name: the platform's name in config.json ``platforms``.
    :param config: its settings.
    """

    kind: ClassVar[str]
    idempotency_horizon: ClassVar[timedelta | None] = None
    """How long a resend is deduplicated by the platform (None: no limit)."""
    reconciles_by_resending: ClassVar[bool] = True
    """True when :meth:`reconcile` is a resend the platform deduplicates; False when it
    looks the post up instead (then an unsure send is looked up within the same run)."""

    def __init__(self, name: str, config: AnyPlatform, env: PublishEnv) -> None:
        self.name = name
        self.config = config
        self.env = env

    def setting(self, field_name: str) -> str:
        """The config.json path of one of this platform's settings, for messages."""
        return f"platforms.{self.name}.{field_name}"

    @abstractmethod
    def send(self, post: Post, parts: Parts) -> Receipt:
        """Publish ``post``.

        :raises AuthError: credentials refused.
        :raises TaskError: the platform refused the content (its own message).
        :raises TransientError: the request certainly did not get through; try later.
        :raises PublishUncertain: it may have got through; reconcile before resending.
        """

    def reconcile(self, post: Post, pair: Pair, parts: Parts) -> Receipt | None:
        """After an unsure send: the receipt if it went through, None if it did not.

        The default resends: right for platforms that deduplicate a resend carrying the
        same idempotency key or delivery id.
        """
        return self.send(post, parts)

    @abstractmethod
    def check(self) -> str:
        """A cheap authenticated read; a one-line description of what was found."""

    def close(self) -> None:  # noqa: B027  (optional hook)
        """Release connections."""

    def describe(self) -> str:
        """``"blog (wordpress https://example.com)"``."""
        where = getattr(self.config, "url", None) or getattr(self.config, "path", None)
        return f"{self.name} ({self.kind}{' ' + where if where else ''})"
