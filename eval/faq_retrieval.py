"""Which FAQ retrieval method? Retrieval alone, measured on the independent sets.

For each method, trains on the catalog's phrasings (question + examples of
data/knowledge/faq.yml, or ``--catalog``) and reports, on the FAQ sentences of
each evaluation set whose entry is in the catalog, the share whose best-scored
entry is the right one (DIET's faq-or-not decision left out), and the training
time. This is how hotline_rasa/faq_retriever.py's method was chosen
(docs/experiments/2026-12-05-faq-retrieval.md); the sets' figures with the
whole model come from scripts/evaluate.py.

Methods, all over TF-IDF features (character n-grams, and jieba word 1-2-grams
where ``+w``), NFKC-normalised as the retriever does:
``knn`` (nearest phrasing; ``k=2``: mean of the two nearest of each entry),
``centroid`` (nearest mean of an entry's phrasings), ``lr`` (multinomial
logistic regression), ``svm`` (one-vs-rest linear SVM; the shipped choice is C 4
with pinyin syllable n-grams, ``+py``).

Usage (Rasa environment: jieba and scikit-learn come with Rasa):
    .venv-rasa/bin/python eval/faq_retrieval.py [--catalog F] [--sets heldout final citizen breadth]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline_rasa.faq_retriever import read_catalog  # noqa: E402
from hotline_rasa.hotline_gate import build_features, normalise  # noqa: E402

METHODS: dict[str, dict[str, Any]] = {
    "knn c1-3": {"method": "knn", "k": 1, "word_ngram_range": None},
    "knn c1-3+w": {"method": "knn", "k": 1},
    "knn k=2 c1-3+w": {"method": "knn", "k": 2},
    "centroid c1-3+w": {"method": "centroid"},
    "lr C=10 c1-3+w": {"method": "lr", "C": 10.0},
    "svm C=1 c1-3+w": {"method": "svm", "C": 1.0},
    "svm C=1 c1-4+w": {"method": "svm", "C": 1.0, "ngram_range": [1, 4]},
    "svm C=1 c1-3": {"method": "svm", "C": 1.0, "word_ngram_range": None},
    "svm C=4 c1-3+w": {"method": "svm", "C": 4.0},
    # + pinyin syllable 1-2-grams (hotline_gate.pinyin_syllables): the shipped choice
    "svm C=4 c1-3+w+py": {"method": "svm", "C": 4.0, "pinyin_ngram_range": [1, 2]},
}


def faq_rows(path: Path) -> list[tuple[str, str]]:
    """(sentence, entry id) of every ``faq/<id>`` example of an NLU file."""
    if not path.exists():
        return []
    rows = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
        intent = str(item.get("intent") or "")
        if not intent.startswith("faq/"):
            continue
        for line in str(item.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                rows.append((line.strip()[2:].strip(), intent.split("/", 1)[1]))
    return rows


def run(
    catalog: dict[str, list[str]], sets: dict[str, list[tuple[str, str]]], spec: dict[str, Any]
) -> tuple[dict[str, tuple[float, int]], float]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import normalize
    from sklearn.svm import LinearSVC

    config = {"ngram_range": [1, 3], "word_ngram_range": [1, 2], **spec}
    keys = sorted(catalog)
    texts = [normalise(t) for k in keys for t in catalog[k]]
    labels = np.array([i for i, k in enumerate(keys) for _ in catalog[k]])
    started = time.perf_counter()
    features = build_features(config)
    matrix = normalize(features.fit_transform(texts))
    model: Any = None
    if spec["method"] == "lr":
        model = LogisticRegression(C=spec["C"], max_iter=3000).fit(matrix, labels)
    elif spec["method"] == "svm":
        model = LinearSVC(C=spec["C"], max_iter=5000).fit(matrix, labels)
    elif spec["method"] == "centroid":
        model = normalize(
            np.vstack([np.asarray(matrix[labels == j].mean(axis=0)) for j in range(len(keys))])
        )
    seconds = time.perf_counter() - started
    results = {}
    for name, rows in sets.items():
        rows = [r for r in rows if r[1] in catalog]
        if not rows:
            continue
        queries = normalize(features.transform([normalise(r[0]) for r in rows]))
        if spec["method"] == "knn":
            similarity = (queries @ matrix.T).toarray()
            scores = np.zeros((len(rows), len(keys)))
            for j in range(len(keys)):
                columns = np.sort(similarity[:, labels == j], axis=1)
                scores[:, j] = columns[:, -spec["k"] :].mean(axis=1)
            predicted = scores.argmax(axis=1)
        elif spec["method"] == "centroid":
            predicted = np.asarray(queries @ model.T).argmax(axis=1)
        else:
            predicted = model.predict(queries)
        right = sum(keys[p] == r[1] for p, r in zip(predicted, rows, strict=True))
        results[name] = (right / len(rows), len(rows))
    return results, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--catalog", default=str(ROOT / "data" / "knowledge" / "faq.yml"))
    parser.add_argument("--sets", nargs="+", default=["heldout", "final", "citizen", "breadth"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    args = parser.parse_args()
    catalog = {entry: phrasings for entry, phrasings, _ in read_catalog(Path(args.catalog))}
    sets = {name: faq_rows(ROOT / "eval" / name / "faq.yml") for name in args.sets}
    print(f"catalog: {len(catalog)} entries, {sum(map(len, catalog.values()))} phrasings")
    for name in args.methods:
        results, seconds = run(catalog, sets, METHODS[name])
        cells = "  ".join(f"{s} {acc:.3f} ({n})" for s, (acc, n) in results.items())
        print(f"{name:18s} train {seconds:6.1f} s  {cells}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
