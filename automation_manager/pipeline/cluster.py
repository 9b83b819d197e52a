"""Offline keyword clustering: TF-IDF over the keywords' words, agglomerative linkage.

Each keyword becomes a TF-IDF vector of its words (lowercased, plurals folded, English
stop words and search modifiers such as "best" or "how" removed). A batch is clustered
with average-linkage agglomerative clustering on cosine distance, cut at
:data:`DISTANCE_THRESHOLD` (two groups merge while their average cosine similarity is at
least 1 − 0.8 = 0.2). Each group is then compared with the pipeline's existing clusters
(their keywords as one document): a group whose centroid has cosine similarity ≥
:data:`MERGE_SIMILARITY` with an existing cluster joins it, so batches (and runs) do not
split one topic into many clusters. Measured on ``bench/data/keywords_labelled.csv``
(``python bench/pipeline.py``).

scikit-learn is imported inside :func:`cluster_keywords` (heavy; never at ``--help``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .keywords import words_of

DISTANCE_THRESHOLD = 0.8
"""Average-linkage cut on cosine distance inside a batch."""
MERGE_SIMILARITY = 0.35
"""Cosine similarity from which a new group joins an existing cluster."""

MODIFIERS = frozenset(
    [
        "best",
        "top",
        "cheap",
        "cheapest",
        "free",
        "online",
        "near",
        "me",
        "how",
        "to",
        "what",
        "why",
        "when",
        "where",
        "which",
        "who",
        "is",
        "are",
        "do",
        "does",
        "can",
        "for",
        "with",
        "without",
        "vs",
        "versus",
        "guide",
        "tip",
        "idea",
        "ideas",
        "easy",
        "simple",
        "beginner",
        "review",
        "reviews",
        "buy",
        "price",
        "cost",
        "2024",
        "2025",
        "2026",
        "new",
        "good",
        "great",
        "way",
        "ways",
        "step",
        "list",
        "diy",
        "choose",
        "use",
        "mistake",
        "alternative",
    ]
)
"""Search modifiers that say nothing about the topic (left out of the vectors)."""

COMMERCIAL = frozenset(
    ["best", "top", "review", "reviews", "vs", "versus", "compare", "comparison"]
)
TRANSACTIONAL = frozenset(
    ["buy", "price", "cost", "cheap", "cheapest", "deal", "discount", "order", "shop", "sale"]
)
INFORMATIONAL = frozenset(
    ["how", "what", "why", "when", "guide", "tip", "tips", "idea", "ideas", "learn"]
)


@dataclass
class Group:
    """One cluster found: indexes into the batch, and the existing cluster it joins."""

    members: list[int]
    name: str
    intent: str
    joins: int | None = None
    keywords: list[str] = field(default_factory=list)


def analyse(text: str) -> list[str]:
    """The words of a keyword that carry its topic."""
    return [w for w in words_of(text) if w not in MODIFIERS and len(w) > 1]


def clean_name(keyword: str) -> str:
    """A keyword without its search modifiers, as a cluster's name (``best tomato cage
    review`` → ``tomato cage``)."""
    kept = [w for w in keyword.split() if words_of(w) and words_of(w)[0] not in MODIFIERS]
    return " ".join(kept) or keyword


def intent_of(keywords: list[str], given: list[str | None]) -> str:
    """The given intents' majority, else a guess from the words."""
    named = [g for g in given if g]
    if named:
        return Counter(named).most_common(1)[0][0]
    words = Counter(w for k in keywords for w in k.lower().split())
    scores = {
        "transactional": sum(words[w] for w in TRANSACTIONAL),
        "commercial": sum(words[w] for w in COMMERCIAL),
        "informational": sum(words[w] for w in INFORMATIONAL),
    }
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] else "informational"


def cluster_keywords(
    keywords: list[str],
    intents: list[str | None] | None = None,
    existing: list[tuple[int, list[str]]] | None = None,
) -> list[Group]:
    """Group ``keywords`` (one batch); groups similar to an ``existing`` cluster
    (id, keywords) join it.

    :returns: the groups, each with its members' indexes, a name (its most central
        keyword) and an intent.
    """
    if not keywords:
        return []
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    intents = intents or [None] * len(keywords)
    existing = existing or []
    docs = [" ".join(analyse(k)) or k.lower() for k in keywords]
    old_docs = [" ".join(" ".join(analyse(k)) for k in kws) for _, kws in existing]
    vectorizer = TfidfVectorizer(
        analyzer="word",
        token_pattern=r"(?u)\b\w+\b",
        stop_words=list(ENGLISH_STOP_WORDS),
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(docs + old_docs)
    except ValueError:  # nothing but stop words: each keyword on its own
        return [
            Group([i], clean_name(keywords[i]), intent_of([keywords[i]], [intents[i]]))
            for i in range(len(keywords))
        ]
    batch = matrix[: len(docs)].toarray()
    if len(docs) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        empty = ~batch.any(axis=1)
        batch[empty, 0] = 1e-9  # cosine distance needs a non-zero vector
        labels = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=DISTANCE_THRESHOLD,
        ).fit_predict(batch)
    old = matrix[len(docs) :].toarray() if old_docs else None
    groups: list[Group] = []
    for label in sorted(set(int(x) for x in labels)):
        members = [i for i, x in enumerate(labels) if int(x) == label]
        vectors = batch[members]
        centroid = vectors.mean(axis=0)
        norm = float(np.linalg.norm(centroid))
        central = members[int(np.argmax(vectors @ centroid))] if norm else members[0]
        joins: int | None = None
        if old is not None and norm:
            sims = (old @ centroid) / (np.linalg.norm(old, axis=1) * norm + 1e-12)
            best = int(np.argmax(sims))
            if float(sims[best]) >= MERGE_SIMILARITY:
                joins = existing[best][0]
        kws = [keywords[i] for i in members]
        groups.append(
            Group(
                members,
                clean_name(keywords[central]),
                intent_of(kws, [intents[i] for i in members]),
                joins,
                kws,
            )
        )
    return groups


def purity(labels_true: list[str], labels_pred: list[Any]) -> float:
    """The share of items whose cluster's majority label is their own."""
    by: dict[Any, Counter[str]] = {}
    for t, p in zip(labels_true, labels_pred, strict=True):
        by.setdefault(p, Counter())[t] += 1
    return sum(c.most_common(1)[0][1] for c in by.values()) / max(1, len(labels_true))
