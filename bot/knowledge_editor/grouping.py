"""Group similar questions: character n-gram TF-IDF, cosine similarity,
average-linkage agglomerative clustering with a distance threshold.

Why this and not a library: citizens write short Chinese sentences without
spaces, with typos and dialect; character 1-3-grams need no word segmenter
and still match "身份证丢了" with "身份证掉了怎么办". The editor's page groups
at most a few thousand open questions, so pure Python is fast enough
(similarities are computed only for pairs sharing a 2- or 3-gram, found
through an inverted index) and the app gains no numerical dependency
(numpy/scikit-learn are not in the app's environment). Average linkage
keeps a group from chaining through one ambiguous sentence, which single
linkage would do.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

#: Two questions (or groups, on average) at least this similar share a group.
THRESHOLD = 0.2  # same-topic pairs of short questions: 0.19-0.65; other topics: < 0.1
#: A 2-/3-gram in more than this share of the texts (and more than COMMON_MIN
#: of them) does not make two texts candidates on its own.
COMMON_SHARE = 0.2
COMMON_MIN = 50
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_MASKED = re.compile(r"\*+")


def normalise(text: str) -> str:
    """Lower case, no punctuation or spaces, masked digits as one ``#``."""
    return _NOISE.sub("", _MASKED.sub("#", text.lower()))


def ngrams(text: str) -> Counter[str]:
    """Character 1-, 2- and 3-grams of the normalised text."""
    chars = normalise(text)
    grams: Counter[str] = Counter()
    for n in (1, 2, 3):
        for i in range(len(chars) - n + 1):
            grams[chars[i : i + n]] += 1
    return grams


def tfidf(texts: Sequence[str]) -> list[dict[str, float]]:
    """Sublinear TF times smoothed IDF, each vector of unit length."""
    counts = [ngrams(t) for t in texts]
    df: Counter[str] = Counter()
    for c in counts:
        df.update(c.keys())
    n = len(texts)
    vectors = []
    for c in counts:
        vec = {g: (1 + math.log(tf)) * (1 + math.log((1 + n) / (1 + df[g]))) for g, tf in c.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({g: v / norm for g, v in vec.items()})
    return vectors


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(g, 0.0) for g, v in a.items())


def similarities(texts: Sequence[str]) -> dict[tuple[int, int], float]:
    """Cosine similarity of every pair (i < j) sharing a 2- or 3-gram that is not
    in most texts ("怎么" links everything and says little; such pairs count 0)."""
    vectors = tfidf(texts)
    index: dict[str, list[int]] = defaultdict(list)
    for i, vec in enumerate(vectors):
        for gram in vec:
            if len(gram) > 1:
                index[gram].append(i)
    common = max(COMMON_MIN, int(len(texts) * COMMON_SHARE))
    pairs: dict[tuple[int, int], float] = {}
    for members in index.values():
        if len(members) > common:
            continue
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if (i, j) not in pairs:
                    pairs[(i, j)] = cosine(vectors[i], vectors[j])
    return pairs


def cluster(texts: Sequence[str], threshold: float = THRESHOLD) -> list[list[int]]:
    """Indices of ``texts`` in groups, largest first (then by first index).

    Average linkage: two groups merge while the mean similarity of their
    members' pairs is at least ``threshold``; pairs sharing no 2-/3-gram
    count as 0. Identical texts always share a group.
    """
    if not texts:
        return []
    # Identical questions (as normalised) are one point: "公积金怎么提取" asked
    # a hundred times is one group without a hundred squared pairs.
    first: dict[str, int] = {}
    copies: dict[int, list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        copies[first.setdefault(normalise(text), i)].append(i)
    unique = list(copies)
    groups = _average_linkage([texts[i] for i in unique], threshold)
    out = [sorted(i for u in g for i in copies[unique[u]]) for g in groups]
    return sorted(out, key=lambda g: (-len(g), g[0]))


def _average_linkage(texts: Sequence[str], threshold: float) -> list[list[int]]:
    n = len(texts)
    pair_sim = similarities(texts)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    # sums[a][b]: the sum of similarities between the members of groups a and b
    sums: dict[int, dict[int, float]] = defaultdict(dict)
    for (i, j), sim in pair_sim.items():
        if sim > 0:
            sums[i][j] = sums[j][i] = sim
    heap = [(-sim, i, j) for (i, j), sim in pair_sim.items() if sim >= threshold]
    heapq.heapify(heap)
    next_id = n
    while heap:
        neg, a, b = heapq.heappop(heap)
        if a not in members or b not in members:
            continue  # a group that merged since
        current = sums[a].get(b, 0.0) / (len(members[a]) * len(members[b]))
        if abs(current + neg) > 1e-12:
            continue  # stale entry
        merged, new = members.pop(a) + members.pop(b), next_id
        next_id += 1
        members[new] = merged
        sums.pop(a, None)
        sums.pop(b, None)
        row: dict[int, float] = {}
        sums[new] = row
        for other in list(members):
            if other == new:
                continue
            total = sums[other].pop(a, 0.0) + sums[other].pop(b, 0.0)
            if total > 0:
                row[other] = sums[other][new] = total
                avg = total / (len(merged) * len(members[other]))
                if avg >= threshold:
                    heapq.heappush(heap, (-avg, min(new, other), max(new, other)))
    return [sorted(m) for m in members.values()]


@dataclass(frozen=True)
class Grouped:
    """A group's member indices and its most central member (the label)."""

    indices: list[int]
    centre: int


def with_centres(texts: Sequence[str], groups: list[list[int]]) -> list[Grouped]:
    """Each group with the member most similar to the others on average."""
    vectors = tfidf(texts)
    out = []
    for group in groups:
        best = max(
            group,
            key=lambda i: (sum(cosine(vectors[i], vectors[j]) for j in group), -i),
        )
        out.append(Grouped(group, best))
    return out
