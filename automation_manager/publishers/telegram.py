"""Telegram: a bot posts to a channel or chat through the Bot API.

Text goes out with ``sendMessage`` (``parse_mode`` HTML, split at 4096 characters), an
image with ``sendPhoto``, a video with ``sendVideo``, several images as one album with
``sendMediaGroup``; a caption longer than Telegram's 1024 characters follows as a reply.
Every answer is ``{"ok": …, "result" | "description": …}``; a 429 carries
``parameters.retry_after``, which is waited out.

Reconciling: the Bot API has neither idempotency keys nor a way for a bot to read what
it posted, so an unsure send is never repeated blindly (at most once): the pair fails
with a message asking a person to look in the chat and run ``amgr content retry`` if
the post is not there. Pieces already confirmed (an album, earlier messages) are kept.
"""

from __future__ import annotations

import html
import json
from datetime import timedelta
from functools import cached_property
from typing import Any

import httpx

from ..config.platforms_social import TelegramPlatform
from ..errors import TaskError
from ..secrets import secret_from_env
from .base import Parts, Publisher, Receipt
from .post import Post
from .social import SocialHttp, media_of, posts_of, split_to

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
ALBUM_LIMIT = 10


class TelegramHttp(SocialHttp):
    """Telegram's answers: ``description`` is the message, ``retry_after`` the wait."""

    def wait_of(self, response: httpx.Response) -> float | None:
        params = _body(response).get("parameters") or {}
        wait = params.get("retry_after") if isinstance(params, dict) else None
        return float(wait) if isinstance(wait, int | float) else None

    def refine(self, response: httpx.Response, what: str) -> None:
        description = _body(response).get("description")
        if isinstance(description, str) and 400 <= response.status_code < 500:
            if response.status_code in (401, 403, 429):
                return  # the usual handling, with the hint
            raise TaskError(f"{self.platform}: Telegram refused to {what}: {description}")


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _html(text: str) -> str:
    return html.escape(text, quote=False)


class TelegramPublisher(Publisher):
    """Posts to one Telegram channel or chat as a bot."""

    kind = "telegram"
    config: TelegramPlatform
    reconciles_by_resending = False
    idempotency_horizon = timedelta(0)
    """Nothing is deduplicated: an unsure send is looked at by a person."""

    @cached_property
    def token(self) -> str:
        return secret_from_env(
            self.config.token_env,
            self.setting("token_env"),
            "the bot token from @BotFather (/newbot)",
        )

    @cached_property
    def http(self) -> TelegramHttp:
        token_env = self.config.token_env
        self.token  # noqa: B018  (raises the missing-token error first)
        return TelegramHttp.of(
            self,
            auth_hint=f"{token_env} ({self.setting('token_env')}): the token @BotFather "
            f"gave, and the bot must be an admin of {self.config.chat_id} "
            f"({self.setting('chat_id')}) allowed to post",
        )

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()

    def call(self, method: str, *, what: str, repeatable: bool = False, **kwargs: Any) -> Any:
        """One Bot API method; its ``result``."""
        url = f"{self.config.api_base.rstrip('/')}/bot{self.token}/{method}"
        response = self.http.request("POST", url, what=what, repeatable=repeatable, **kwargs)
        data = _body(response)
        if not data.get("ok"):
            raise TaskError(
                f"{self.name}: Telegram did not {what}: {data.get('description') or 'no answer'}"
            )
        return data.get("result")

    def _common(self) -> dict[str, Any]:
        return {
            "chat_id": self.config.chat_id,
            "parse_mode": "HTML",
            "disable_notification": self.config.disable_notification,
        }

    def texts(self, post: Post) -> list[str]:
        """The HTML messages: the item's posts, or its title (bold) and short text."""
        if post.thread:
            pieces = posts_of(post, MESSAGE_LIMIT - 200, len)
            return [_html(p) for p in pieces]
        rest = post.short_text().removeprefix(post.title).strip()
        head = f"<b>{_html(post.title)}</b>"
        pieces = split_to(rest, MESSAGE_LIMIT - 200, len)
        if not pieces:
            return [head]
        return [f"{head}\n\n{_html(pieces[0])}", *(_html(p) for p in pieces[1:])]

    def send(self, post: Post, parts: Parts) -> Receipt:
        texts = self.texts(post)
        media = media_of(post, images=ALBUM_LIMIT)
        sent: list[dict[str, Any]] = []
        reply_to: int | None = None
        caption = texts[0] if media and texts and len(texts[0]) <= CAPTION_LIMIT else None
        if media:
            done = parts.done.get("media")
            if done is None:
                ids = self._send_media(post, media, caption)
                parts.record("media", ",".join(str(i) for i in ids), self._link(ids[0]))
                done = parts.done["media"]
            sent.append(done)
            reply_to = int(str(done["remote_id"]).split(",")[0])
            if caption is not None:
                texts = texts[1:]
        for index, text in enumerate(texts):
            done = parts.done.get(f"message-{index}")
            if done is None:
                body = {**self._common(), "text": text}
                if reply_to is not None:
                    body["reply_parameters"] = {"message_id": reply_to}
                result = self.call(
                    "sendMessage", what=f"send message {index + 1} of {len(texts)}", json=body
                )
                message_id = int(result["message_id"])
                parts.record(f"message-{index}", str(message_id), self._link(message_id))
                done = parts.done[f"message-{index}"]
            sent.append(done)
            reply_to = int(str(done["remote_id"]))
        if not sent:
            raise TaskError(f"{self.name}: item {post.item_id} has nothing to post")
        first = sent[0]
        return Receipt(
            remote_id=str(first["remote_id"]).split(",")[0],
            url=first.get("url"),
            extra={"messages": [s["remote_id"] for s in sent]},
        )

    def _send_media(self, post: Post, media: list[Any], caption: str | None) -> list[int]:
        common = {
            k: str(v).lower() if isinstance(v, bool) else v for k, v in self._common().items()
        }
        if len(media) == 1:
            one = media[0]
            method, field = ("sendVideo", "video") if one.is_video else ("sendPhoto", "photo")
            data = {**common, **({"caption": caption} if caption else {})}
            if one.is_video:
                data["supports_streaming"] = "true"
            result = self.call(
                method,
                what=f"send the {field}",
                data=data,
                files={field: (one.path.name, one.path.read_bytes(), one.mime)},
            )
            return [int(result["message_id"])]
        items = []
        files = {}
        for n, one in enumerate(media):
            entry: dict[str, Any] = {
                "type": "video" if one.is_video else "photo",
                "media": f"attach://file{n}",
            }
            if n == 0 and caption:
                entry.update(caption=caption, parse_mode="HTML")
            items.append(entry)
            files[f"file{n}"] = (one.path.name, one.path.read_bytes(), one.mime)
        data = {k: v for k, v in common.items() if k != "parse_mode"}
        data["media"] = json.dumps(items)
        result = self.call("sendMediaGroup", what="send the album", data=data, files=files)
        return [int(m["message_id"]) for m in result]

    def _link(self, message_id: int) -> str | None:
        chat = self.config.chat_id
        if chat.startswith("@"):
            return f"https://t.me/{chat[1:]}/{message_id}"
        if chat.startswith("-100"):
            return f"https://t.me/c/{chat[4:]}/{message_id}"
        return None

    def check(self) -> str:
        me = self.call("getMe", what="read the bot's profile", repeatable=True)
        chat = self.call(
            "getChat",
            what=f"open the chat {self.config.chat_id}",
            repeatable=True,
            json={"chat_id": self.config.chat_id},
        )
        where = chat.get("title") or chat.get("username") or self.config.chat_id
        return f"bot @{me.get('username', '?')} can reach {chat.get('type', 'chat')} {where}"
