"""The seven stages. Each takes only the items pending for it, up to its ``max_per_run``,
in batches of ``batch_size``; every item's status change is committed with the run's
counts in one transaction (:meth:`~.runner.Pass.commit`), and a pause or cancel takes
effect after the current item.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from ..content.brief import OFFLINE_LABEL, Brief
from ..content.kinds import blog
from ..content.render import save
from ..enums import ContentStatus
from ..errors import RunCancelled, RunPaused, TaskError
from .cluster import clean_name, cluster_keywords
from .images import render_image
from .keywords import normal_form
from .store import now_text

if TYPE_CHECKING:
    from .runner import Pass


# -- model outputs --------------------------------------------------------------------------


class ClusterOut(BaseModel):
    name: str = Field(description="A short name for the search intent the keywords share.")
    intent: str = Field(description="informational, commercial, transactional or navigational")
    keywords: list[str] = Field(description="The given keywords in this cluster, verbatim.")


class ClusterPlan(BaseModel):
    clusters: list[ClusterOut]


class IdeaOut(BaseModel):
    title: str = Field(description="The article's working title.")
    angle: str = Field(description="howto, tips, myths, story or comparison")
    target_keyword: str = Field(description="One of the cluster's keywords.")
    outline: list[str] = Field(description="3-6 H2 headings.")


class IdeaList(BaseModel):
    ideas: list[IdeaOut]


class ImagePrompts(BaseModel):
    featured: str = Field(description="A prompt for the article's featured image.")
    inline: list[str] = Field(description="One prompt per in-article image.")


ANGLES: tuple[tuple[str, str], ...] = (
    ("howto", "How to get {kw} right: a step-by-step guide"),
    ("tips", "{n} {kw} tips that actually work"),
    ("myths", "{n} {kw} myths, and what to do instead"),
    ("story", "What I learned about {kw} the hard way"),
    ("comparison", "{Kw}: the options compared"),
)
"""The content generator's methods, as idea angles (offline titles)."""


# -- helpers --------------------------------------------------------------------------------


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _processed(p: Pass, stage: str, key: str) -> int:
    row = p.db.run_row(p.run_id) or {}
    return int(row.get("stages", {}).get(stage, {}).get(key, 0))


def _cost_since(p: Pass, before: float) -> float:
    return round(p.ctx.usage.cost_usd - before, 8)


def _batches(
    p: Pass, stage: str, key: str, select: Callable[[int], list[dict[str, Any]]]
) -> Iterator[list[dict[str, Any]]]:
    """Batches of pending items, each chosen after the last was committed, until the
    stage's ``max_per_run``, its budget share or the items run out."""
    size = p.settings.batch_size(stage)
    first = True
    while True:
        left = p.limit(stage, _processed(p, stage, key))
        take = size if left is None else min(size, left)
        if take <= 0:
            p.log(stage, "max_per_run reached: the rest waits for the next run")
            return
        row = (p.db.run_row(p.run_id) or {}).get("stages", {}).get(stage, {})
        if p.over_budget(stage, row):
            return
        items = select(take)
        if not items:
            return
        if not first:
            p.delay(p.settings.within_stage_delay_s)
        first = False
        yield items


def _with_items(p: Pass, stage: str, count_key: str) -> None:
    p.commit(stage, {count_key: 0, "batches_run": 0, "cost_usd": 0.0, "partial": False})


# -- 1 clusters ------------------------------------------------------------------------------


def stage_clusters(p: Pass) -> dict[str, Any]:
    st, task = "clusters", p.task_id
    _with_items(p, st, "keywords_processed")
    p.commit(st, {"clusters_created": 0, "skipped": False})
    waiting = int(
        p.db.value("SELECT count(*) FROM pl_keywords WHERE task_id = ? AND status = 'new'", (task,))
    )
    if _processed(p, st, "keywords_processed") == 0 and waiting < p.settings.min_keywords:
        why = f"{waiting} keywords waiting, below min_keywords {p.settings.min_keywords}"
        p.log(st, f"skipped: {why}")
        return p.commit(st, {"skipped": True, "reason": why})

    def select(take: int) -> list[dict[str, Any]]:
        return p.db.rows(
            "SELECT id, keyword, intent FROM pl_keywords WHERE task_id = ? AND status = 'new' "
            "ORDER BY id LIMIT ?",
            (task, take),
        )

    for batch in _batches(p, st, "keywords_processed", select):
        before = p.ctx.usage.cost_usd
        groups = _groups(p, batch)
        now = now_text(p.ctx.now())
        made = sum(1 for g in groups if g[2] is None)

        def work(
            conn: sqlite3.Connection,
            groups: list[Any] = groups,
            now: str = now,
            batch: list[dict[str, Any]] = batch,
        ) -> None:
            for name, intent, joins, members in groups:
                kws = [batch[i]["keyword"] for i in members]
                if joins is None:
                    cur = conn.execute(
                        "INSERT INTO pl_clusters(task_id, name, intent, keywords, run_id, "
                        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (task, name, intent, json.dumps(kws), p.run_id, now),
                    )
                    cluster_id = cur.lastrowid
                else:
                    cluster_id = joins
                    (old,) = conn.execute(
                        "SELECT keywords FROM pl_clusters WHERE id = ?", (joins,)
                    ).fetchone()
                    conn.execute(
                        "UPDATE pl_clusters SET keywords = ? WHERE id = ?",
                        (json.dumps(json.loads(old) + kws), joins),
                    )
                conn.executemany(
                    "UPDATE pl_keywords SET status = 'clustered', cluster_id = ? WHERE id = ?",
                    [(cluster_id, batch[i]["id"]) for i in members],
                )

        p.commit(
            st,
            {
                "keywords_processed": len(batch),
                "clusters_created": made,
                "batches_run": 1,
                "cost_usd": _cost_since(p, before),
            },
            work,
        )
        p.log(st, f"batch: {len(batch)} keywords → {len(groups)} groups ({made} new clusters)")
        p.checkpoint()
    return p.commit(st, {})


def _groups(p: Pass, batch: list[dict[str, Any]]) -> list[tuple[str, str, int | None, list[int]]]:
    """(name, intent, existing cluster it joins, member indexes) per group of the batch."""
    keywords = [str(r["keyword"]) for r in batch]
    intents = [r["intent"] for r in batch]
    existing = [
        (int(r["id"]), json.loads(r["keywords"]))
        for r in p.db.rows(
            "SELECT id, keywords FROM pl_clusters WHERE task_id = ? AND status != 'disabled'",
            (p.task_id,),
        )
    ]
    if p.ctx.llm.offline:
        found = cluster_keywords(keywords, intents, existing)
        return [(g.name, g.intent, g.joins, g.members) for g in found]
    plan = p.ctx.llm.generate(
        "pipeline",
        _cluster_messages(keywords),
        ClusterPlan,
        offline=lambda: ClusterPlan(clusters=[]),
    )
    index = {normal_form(k): i for i, k in enumerate(keywords)}
    taken: set[int] = set()
    out: list[tuple[str, str, int | None, list[int]]] = []
    for cluster in plan.clusters:
        members = [index[n] for n in (normal_form(k) for k in cluster.keywords) if n in index]
        members = [m for m in dict.fromkeys(members) if m not in taken]
        if members and cluster.name.strip():
            taken.update(members)
            out.append((cluster.name.strip()[:120], cluster.intent.strip().lower(), None, members))
    rest = [i for i in range(len(keywords)) if i not in taken]
    if rest:  # what the model left out is clustered offline, never dropped
        p.log("clusters", f"the model left {len(rest)} keywords out: clustered offline")
        found = cluster_keywords([keywords[i] for i in rest], [intents[i] for i in rest], existing)
        out += [(g.name, g.intent, g.joins, [rest[m] for m in g.members]) for g in found]
    return out


def _cluster_messages(keywords: list[str]) -> list[dict[str, str]]:
    return [
        {
            "role": "system",
            "content": "You are an SEO strategist. Group search keywords by search intent: "
            "keywords one article could rank for belong together. Use every keyword exactly "
            "once, copied verbatim.",
        },
        {"role": "user", "content": "Keywords:\n" + "\n".join(f"- {k}" for k in keywords)},
    ]


# -- 2 ideas ---------------------------------------------------------------------------------


def stage_ideas(p: Pass) -> dict[str, Any]:
    st, task = "ideas", p.task_id
    _with_items(p, st, "clusters_processed")
    p.commit(st, {"ideas_created": 0})

    def select(take: int) -> list[dict[str, Any]]:
        return p.db.rows(
            "SELECT id, name, intent, keywords FROM pl_clusters WHERE task_id = ? "
            "AND status = 'new' ORDER BY id LIMIT ?",
            (task, take),
        )

    for batch in _batches(p, st, "clusters_processed", select):
        p.commit(st, {"batches_run": 1})
        for cluster in batch:
            before = p.ctx.usage.cost_usd
            ideas = _ideas(p, cluster)
            now = now_text(p.ctx.now())

            def work(
                conn: sqlite3.Connection, c: Any = cluster, ideas: Any = ideas, now: str = now
            ) -> None:
                conn.executemany(
                    "INSERT INTO pl_ideas(task_id, cluster_id, title, angle, target_keyword, "
                    "outline, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            task,
                            c["id"],
                            i.title,
                            i.angle,
                            i.target_keyword,
                            json.dumps(i.outline),
                            p.run_id,
                            now,
                        )
                        for i in ideas
                    ],
                )
                conn.execute("UPDATE pl_clusters SET status = 'ideas' WHERE id = ?", (c["id"],))

            p.commit(
                st,
                {
                    "clusters_processed": 1,
                    "ideas_created": len(ideas),
                    "cost_usd": _cost_since(p, before),
                },
                work,
            )
            p.log(st, f"cluster {cluster['id']} {cluster['name']!r}: {len(ideas)} ideas")
            p.checkpoint()
    return p.commit(st, {})


def _ideas(p: Pass, cluster: dict[str, Any]) -> list[IdeaOut]:
    keywords = json.loads(cluster["keywords"]) or [cluster["name"]]
    count = p.settings.ideas_per_cluster

    def offline() -> IdeaList:
        out = []
        for n in range(count):
            method, pattern = ANGLES[n % len(ANGLES)]
            kw = keywords[n % len(keywords)]
            topic = clean_name(kw) or str(cluster["name"])  # the title names its keyword
            title = pattern.format(kw=topic, Kw=topic[:1].upper() + topic[1:], n=5 + 2 * (n % 3))
            others = [clean_name(k) for k in keywords if k != kw][:4]
            outline = [f"Why {topic} matters", *[f"{o[:1].upper()}{o[1:]}" for o in others]]
            out.append(IdeaOut(title=title, angle=method, target_keyword=kw, outline=outline))
        return IdeaList(ideas=out)

    if p.ctx.llm.offline:
        return offline().ideas
    made = p.ctx.llm.generate(
        "pipeline",
        [
            {
                "role": "system",
                "content": "You are a content strategist. Propose distinct article ideas "
                "for one keyword cluster; each targets one of its keywords.",
            },
            {
                "role": "user",
                "content": f"Cluster: {cluster['name']} (intent {cluster['intent']})\n"
                f"Keywords: {', '.join(keywords)}\nIdeas wanted: {count}",
            },
        ],
        IdeaList,
        offline=offline,
    )
    ideas = [i for i in made.ideas if i.title.strip()][:count]
    if not ideas:
        raise TaskError(f"the model gave no ideas for cluster {cluster['name']!r}")
    return ideas


# -- 3 tasks ---------------------------------------------------------------------------------


def stage_tasks(p: Pass) -> dict[str, Any]:
    st, task = "tasks", p.task_id
    _with_items(p, st, "ideas_processed")
    p.commit(st, {"tasks_created": 0})

    def select(take: int) -> list[dict[str, Any]]:
        return p.db.rows(
            "SELECT i.id, i.cluster_id, i.title, i.target_keyword, c.keywords FROM pl_ideas i "
            "JOIN pl_clusters c ON c.id = i.cluster_id WHERE i.task_id = ? AND i.status = 'new' "
            "AND c.status != 'disabled' ORDER BY i.id LIMIT ?",
            (task, take),
        )

    for batch in _batches(p, st, "ideas_processed", select):
        now = now_text(p.ctx.now())

        def work(conn: sqlite3.Connection, batch: Any = batch, now: str = now) -> None:
            for idea in batch:
                kws = [idea["target_keyword"], *json.loads(idea["keywords"])]
                kws = list(dict.fromkeys(kws))[:8]
                conn.execute(
                    "INSERT OR IGNORE INTO pl_tasks(task_id, idea_id, cluster_id, title, "
                    "keywords, words, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        task,
                        idea["id"],
                        idea["cluster_id"],
                        idea["title"],
                        json.dumps(kws),
                        p.settings.words_per_article,
                        p.run_id,
                        now,
                    ),
                )
                conn.execute("UPDATE pl_ideas SET status = 'queued' WHERE id = ?", (idea["id"],))

        p.commit(
            st,
            {"ideas_processed": len(batch), "tasks_created": len(batch), "batches_run": 1},
            work,
        )
        p.log(st, f"batch: {len(batch)} ideas queued as writing tasks")
        p.checkpoint()
    return p.commit(st, {})


# -- 4 content -------------------------------------------------------------------------------


def stage_content(p: Pass) -> dict[str, Any]:
    st, task = "content", p.task_id
    _with_items(p, st, "tasks_processed")
    p.commit(st, {"content_created": 0, "total_words": 0})
    concurrency = p.settings.stage(st).concurrency
    adopt = _written_before(p)
    p.ctx.llm  # noqa: B018 - the client is made once, before the workers share it

    def select(take: int) -> list[dict[str, Any]]:
        return p.db.rows(
            "SELECT t.id, t.title, t.keywords, t.words, t.cluster_id, c.name AS cluster, "
            "i.angle, i.target_keyword FROM pl_tasks t JOIN pl_clusters c ON c.id = t.cluster_id "
            "JOIN pl_ideas i ON i.id = t.idea_id WHERE t.task_id = ? AND t.status = 'queued' "
            "AND c.status != 'disabled' ORDER BY t.id LIMIT ?",
            (task, take),
        )

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="pipeline") as pool:
        for batch in _batches(p, st, "tasks_processed", select):
            p.commit(st, {"batches_run": 1})
            _write_batch(p, pool, batch, concurrency, adopt)
    return p.commit(st, {})


def _write_batch(
    p: Pass,
    pool: ThreadPoolExecutor,
    batch: list[dict[str, Any]],
    concurrency: int,
    adopt: dict[int, str],
) -> None:
    """Write a batch's articles, ``concurrency`` at a time: as each one finishes it is
    committed and the next starts, so the model calls stay overlapped. A pause, cancel
    or error stops new ones; those in flight (at most ``concurrency``) finish and are
    kept."""
    st = "content"
    queue = iter(batch)
    inflight: dict[Future[tuple[str, int]], dict[str, Any]] = {}
    stop: BaseException | None = None
    seen = p.ctx.usage.cost_usd

    def fill() -> None:
        while stop is None and len(inflight) < concurrency:
            t = next(queue, None)
            if t is None:
                return
            inflight[pool.submit(_write, p, t, adopt.get(int(t["id"])))] = t

    fill()
    while inflight:
        done, _ = wait(inflight, return_when=FIRST_COMPLETED)
        finished = [(future, inflight.pop(future)) for future in done]
        if not p.tracker.asked():
            fill()  # the next calls start before these are committed
        for future, t in finished:
            try:
                content_id, words = future.result()
            except Exception as exc:
                p.log(st, f"task {t['id']} {t['title']!r}: error: {exc}")
                stop = stop or exc
                continue

            def work(conn: sqlite3.Connection, t: Any = t, cid: str = content_id) -> None:
                conn.execute(
                    "UPDATE pl_tasks SET status = 'written', content_id = ? WHERE id = ?",
                    (cid, t["id"]),
                )

            now_cost = p.ctx.usage.cost_usd
            counts = {"tasks_processed": 1, "content_created": 1, "total_words": words}
            p.commit(st, {**counts, "cost_usd": round(now_cost - seen, 8)}, work)
            seen = now_cost
            p.log(st, f"task {t['id']} → article {content_id} ({words} words)")
        if stop is None:
            try:
                p.checkpoint()
            except (RunPaused, RunCancelled) as asked:
                stop = asked
        fill()
    if stop is not None:
        raise stop


def _written_before(p: Pass) -> dict[int, str]:
    """Articles a killed run wrote but did not get to mark: adopted, not written again."""
    out: dict[int, str] = {}
    queued = {
        int(r["id"])
        for r in p.db.rows(
            "SELECT id FROM pl_tasks WHERE task_id = ? AND status = 'queued'", (p.task_id,)
        )
    }
    if not queued:
        return out
    for item in p.ctx.store.items():
        found = item.meta.get("pipeline_article")
        if item.meta.get("pipeline") == p.task_id and isinstance(found, int) and found in queued:
            out[found] = item.id
    return out


def _write(p: Pass, t: dict[str, Any], adopted: str | None) -> tuple[str, int]:
    ctx = p.ctx
    store = ctx.store
    if adopted is not None:
        item = store.get(adopted)
        return item.id, int(item.meta.get("words", 0))
    now = ctx.now()
    platform = ctx.spec.task.platform
    # A model is briefed with the idea's title ("7 espresso grinder settings tips that
    # actually work"); the offline templates write their sentences around a topic, so
    # they get the idea's target keyword ("espresso grinder settings") and the title is
    # set on the result.
    title = str(t["title"])[:280]
    keyword = str(t.get("target_keyword") or title)[:280]
    brief = Brief(
        topic=keyword if ctx.llm.offline else title,
        method=str(t["angle"]),
        platform=platform,
        keywords=tuple(json.loads(t["keywords"])),
        params={"length": str(t["words"])},
    )
    post = ctx.llm.generate(
        "blog",
        blog.messages(brief, ctx.config),
        blog.BlogPost,
        offline=lambda: blog.offline(brief, ctx.config, now),
    )
    if ctx.llm.offline:
        post.title = title  # the idea's title, not the template's
        post.seo_title = None  # derived from the title
    by = (
        OFFLINE_LABEL
        if ctx.llm.offline
        else f"{ctx.llm.provider} model {ctx.config.llm.model_for('blog')}"
    )
    rendered = blog.render(post, brief, by, now)
    item, _ = save(
        store,
        "blog",
        rendered,
        now=now,
        status=ContentStatus.DRAFT,
        topic=brief.topic,
        task_id=p.task_id,
        record_id=ctx.record_id,
        provider=ctx.llm.provider,
        targets=[platform] if platform else [],
        meta={
            "pipeline": p.task_id,
            "pipeline_article": int(t["id"]),
            "cluster": t["cluster"],
            "cluster_id": int(t["cluster_id"]),
            "run_id": p.run_id,
        },
    )
    return item.id, int(rendered.meta.get("words", 0))


# -- 5 image prompts -------------------------------------------------------------------------


def stage_image_prompts(p: Pass) -> dict[str, Any]:
    st, task = "image_prompts", p.task_id
    _with_items(p, st, "content_processed")
    p.commit(st, {"prompts_created": 0})

    def select(take: int) -> list[dict[str, Any]]:
        return p.db.rows(
            "SELECT id, content_id, title FROM pl_tasks WHERE task_id = ? AND status = 'written' "
            "ORDER BY id LIMIT ?",
            (task, take),
        )

    for batch in _batches(p, st, "content_processed", select):
        p.commit(st, {"batches_run": 1})
        for article in batch:
            before = p.ctx.usage.cost_usd
            prompts = _prompts(p, article)
            now = now_text(p.ctx.now())
            size = p.settings.image_size

            def work(
                conn: sqlite3.Connection,
                a: Any = article,
                ps: Any = prompts,
                size: str = size,
                now: str = now,
            ) -> None:
                conn.executemany(
                    "INSERT OR IGNORE INTO pl_image_prompts(task_id, article_id, content_id, "
                    "role, position, prompt, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (task, a["id"], a["content_id"], role, n, text, size, now)
                        for role, n, text in ps
                    ],
                )
                conn.execute("UPDATE pl_tasks SET status = 'prompted' WHERE id = ?", (a["id"],))

            p.commit(
                st,
                {
                    "content_processed": 1,
                    "prompts_created": len(prompts),
                    "cost_usd": _cost_since(p, before),
                },
                work,
            )
            p.log(st, f"article {article['content_id']}: {len(prompts)} image prompts")
            p.checkpoint()
    return p.commit(st, {})


def _prompts(p: Pass, article: dict[str, Any]) -> list[tuple[str, int, str]]:
    count = p.settings.images_per_article
    item = p.ctx.store.get(str(article["content_id"]))
    headings: list[str] = []
    path = p.ctx.store.path_of(item, "json")
    if path is not None and path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        headings = [s.get("heading", "") for s in data.get("post", {}).get("sections", [])]
    title = item.title

    def offline() -> ImagePrompts:
        inline = [
            f"An editorial illustration of {h.lower()}, for an article on {title}"
            for h in headings[:count]
        ]
        return ImagePrompts(
            featured=f"A clean featured image for the article {title!r}", inline=inline
        )

    if p.ctx.llm.offline:
        made = offline()
    else:
        made = p.ctx.llm.generate(
            "pipeline",
            [
                {"role": "system", "content": "You write prompts for an image model."},
                {
                    "role": "user",
                    "content": f"Article: {title}\nHeadings: {'; '.join(headings)}\n"
                    f"One featured image and {count} in-article images.",
                },
            ],
            ImagePrompts,
            offline=offline,
        )
    out = [("featured_image", 0, made.featured.strip()[:1000] or title)]
    out += [
        ("inline_image", n, text.strip()[:1000])
        for n, text in enumerate(made.inline[:count], 1)
        if text.strip()
    ]
    return out


# -- 6 images --------------------------------------------------------------------------------


def _draw(p: Pass, prompt: str, size: str, path: Any) -> tuple[int, int]:
    """Stage 6's image: from the configured images API (``images.provider: "openai"``,
    cached so a resumed run never pays twice, its cost in the run's usage), else the
    offline renderer."""
    config = p.ctx.config
    if config.images.provider != "openai":
        return render_image(prompt, size, path)
    from ..fsutil import atomic_write_bytes
    from ..visuals.images import draw
    from .images import parse_size

    width, height = parse_size(size)
    drawn = draw(config, p.ctx.workspace.home, prompt, (width, height))
    atomic_write_bytes(path, drawn.png)
    if not drawn.cached:
        from ..visuals.make import add_media_usage

        add_media_usage(p.ctx, drawn.cost_usd, 1, 1)
    return width, height


def _link_inline(store: Any, content_id: str, position: int, name: str) -> None:
    """Put the inline image's link into the article after its ``position``-th heading."""
    from ..fsutil import atomic_write_text
    from ..visuals.make import with_inline_link

    item = store.get(content_id)
    md = item.files.get("markdown")
    if not md:
        return
    path = store.folder(content_id) / md
    text = path.read_text(encoding="utf-8")
    headings = [line[3:].strip() for line in text.splitlines() if line.startswith("## ")]
    alt = headings[position - 1] if 0 < position <= len(headings) else item.title
    linked = with_inline_link(text, position, name, alt)
    if linked != text:
        atomic_write_text(path, linked)


def stage_images(p: Pass) -> dict[str, Any]:
    st, task = "images", p.task_id
    _with_items(p, st, "images_processed")
    p.commit(st, {"images_generated": 0})

    def select(take: int) -> list[dict[str, Any]]:
        return p.db.rows(
            "SELECT id, article_id, content_id, role, position, prompt, size FROM "
            "pl_image_prompts WHERE task_id = ? AND status = 'new' ORDER BY id LIMIT ?",
            (task, take),
        )

    store = p.ctx.store
    for batch in _batches(p, st, "images_processed", select):
        p.commit(st, {"batches_run": 1})
        for prompt in batch:
            role = (
                prompt["role"]
                if prompt["role"] == "featured_image"
                else (f"inline_image_{prompt['position']}")
            )
            name = f"{role}.png"
            folder = store.folder(str(prompt["content_id"]))
            before = p.ctx.usage.cost_usd
            width, height = _draw(p, str(prompt["prompt"]), str(prompt["size"]), folder / name)
            spent = _cost_since(p, before)

            def attach(item: Any, role: str = role, name: str = name) -> None:
                item.files[role] = name

            store.update(str(prompt["content_id"]), attach)
            if role != "featured_image":  # linked after the heading it illustrates
                _link_inline(store, str(prompt["content_id"]), int(prompt["position"]), name)
            now = now_text(p.ctx.now())

            def work(
                conn: sqlite3.Connection,
                pr: Any = prompt,
                n: str = name,
                w: int = width,
                h: int = height,
                now: str = now,
            ) -> None:
                conn.execute(
                    "INSERT OR IGNORE INTO pl_images(prompt_id, task_id, content_id, path, width, "
                    "height, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (pr["id"], task, pr["content_id"], n, w, h, p.run_id, now),
                )
                conn.execute(
                    "UPDATE pl_image_prompts SET status = 'done' WHERE id = ?", (pr["id"],)
                )
                conn.execute(
                    "UPDATE pl_tasks SET status = 'imaged' WHERE id = ? AND NOT EXISTS (SELECT 1 "
                    "FROM pl_image_prompts WHERE article_id = ? AND status = 'new')",
                    (pr["article_id"], pr["article_id"]),
                )

            p.commit(st, {"images_processed": 1, "images_generated": 1, "cost_usd": spent}, work)
            p.log(st, f"article {prompt['content_id']}: {role} {width}x{height}")
            p.checkpoint()
    return p.commit(st, {})


# -- 7 review --------------------------------------------------------------------------------


def stage_review(p: Pass) -> dict[str, Any]:
    st, task = "review", p.task_id
    _with_items(p, st, "articles_processed")
    p.commit(st, {"ready_for_review": 0, "approved_count": 0})
    target = ContentStatus.PENDING if p.settings.auto_approve else ContentStatus.REVIEW

    # An article waits for the image stages only while they are enabled: with either
    # turned off it goes to review without (more) images.
    ready = ["'prompted'", "'imaged'"]
    if not p.settings.stage("image_prompts").enabled:
        ready.append("'written'")
    wait_images = (
        "AND NOT EXISTS (SELECT 1 FROM pl_image_prompts x WHERE x.article_id = t.id AND "
        "x.status = 'new') "
        if p.settings.stage("images").enabled
        else ""
    )

    def select(take: int) -> list[dict[str, Any]]:
        return p.db.rows(
            "SELECT t.id, t.content_id FROM pl_tasks t WHERE t.task_id = ? AND t.status IN "
            f"({', '.join(ready)}) {wait_images}ORDER BY t.id LIMIT ?",
            (task, take),
        )

    store = p.ctx.store
    for batch in _batches(p, st, "articles_processed", select):
        p.commit(st, {"batches_run": 1})
        for article in batch:
            content_id = str(article["content_id"])
            if store.get(content_id).status is ContentStatus.DRAFT:
                store.set_status(content_id, target, p.ctx.now(), note=f"pipeline {task}")

            def work(conn: sqlite3.Connection, a: Any = article) -> None:
                conn.execute("UPDATE pl_tasks SET status = 'review' WHERE id = ?", (a["id"],))

            counts = {"articles_processed": 1, "ready_for_review": 1}
            if target is ContentStatus.PENDING:
                counts["approved_count"] = 1
            p.commit(st, counts, work)
            p.log(st, f"article {content_id} → {target.value}")
            p.checkpoint()
    return p.commit(st, {})


STAGE_RUNNERS: dict[str, Callable[[Pass], dict[str, Any]]] = {
    "clusters": stage_clusters,
    "ideas": stage_ideas,
    "tasks": stage_tasks,
    "content": stage_content,
    "image_prompts": stage_image_prompts,
    "images": stage_images,
    "review": stage_review,
}
