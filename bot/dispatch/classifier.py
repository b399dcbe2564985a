"""The complaint category classifier (派单分类): multinomial naive Bayes over
character 1-3-grams plus the routing keywords, in pure Python.

Trained from ``data/complaints/*.yml`` (labelled descriptions) and the
keywords of ``data/routing.yml``: each keyword is one more training example
of its category, and a description containing a category's keyword gets the
feature ``kw:<category>`` (the keyword list stays as a feature). Training
takes a few tens of milliseconds, so the model is trained when the action
server first needs it and nothing is committed or built.

The confidence is the posterior of the top category after scaling the
log-likelihoods by ``TEMPERATURE`` divided by the number of features (naive
Bayes is overconfident on long texts: without it nearly everything scores
0.99), with at least ``MIN_FEATURES`` counted so that a message with almost
nothing to go on ("我要投诉", "我老公打我": a dozen n-grams) is not sharpened
into a confident guess. Descriptions below the routing table's
``min_confidence`` go to the triage desk flagged for a person (see
bot/dispatch/__init__.py).

Why not scikit-learn: the app environment has no numpy/scipy/scikit-learn
(about 100 MB more). Measured by 5-fold cross-validation on data/complaints,
this model (0.82-0.84) was as accurate as TF-IDF character n-grams with
logistic regression or a linear SVM (0.81-0.82, measured in the Rasa
environment, which has scikit-learn); without the keyword feature it dropped
to 0.75. With the 2,469 descriptions of 2026-12-05 it scores 0.92. A
multiclass averaged perceptron over the same features (alone or mixed with
naive Bayes), binary n-gram counts, n-grams up to 4, entropy-weighted features
and a Cantonese-to-Mandarin character map were tried on the development sets
(eval/dispatch/dev*.yml) and not kept: none was better.
Training takes about 0.1-0.3 s of CPU, a prediction well under 1 ms.

Training descriptions of ``BACKGROUND`` (data/complaints/other.yml: words that
frame any complaint, 我要投诉, 请尽快处理, and nothing else) form a class that
is never predicted: its share of the posterior lowers the confidence of the
real categories, so that "我要投诉这个事情" goes to the triage desk.

Pinyin-input homophones (工姿 for 工资, 路登 for 路灯) are repaired before
classifying: a character pair never seen in training whose toneless pinyin is
that of a pair seen at least ``MIN_REPAIR_COUNT`` times is replaced by it when
that makes more of the surrounding pairs known ones (so 员工自己 is left alone
although 工自 sounds like 工资). The pinyin of the 6,763 GB2312 characters is
in ``pinyin.txt`` beside this file. A real word that training never saw can
be taken for a typo (偷税漏税 becomes 偷税漏水): on the development sets the
repair fixed 5 of 81 hard items and broke none of the others.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.config import ROOT

DATA_DIR = ROOT / "data" / "complaints"
ALPHA = 0.3  # additive smoothing
TEMPERATURE = 4.0  # see the module docstring
BACKGROUND = "other"  # trained like a category, never predicted (see the docstring)
MIN_FEATURES = 20  # the temperature is divided by at least this many features
KEYWORD_WEIGHT = 3  # a keyword match counts as this many n-grams
MIN_REPAIR_COUNT = 3  # a homophone is repaired only into a pair seen this often
PINYIN_PATH = Path(__file__).with_name("pinyin.txt")
_NOISE = re.compile(r"[\s,，。.!！?？、:：;；\"'“”‘’()（）~～…]+")


class TrainingDataError(ValueError):
    """A training file is malformed; the message names the file and entry."""


@dataclass(frozen=True)
class Prediction:
    category: str
    confidence: float
    ranking: tuple[tuple[str, float], ...]  # every class (BACKGROUND too), best first


def normalise(text: str) -> str:
    return _NOISE.sub(" ", unicodedata.normalize("NFKC", text or "").lower()).strip()


def ngrams(text: str, sizes: Iterable[int] = (1, 2, 3)) -> list[str]:
    """Character n-grams of each run of text between punctuation/spaces."""
    grams: list[str] = []
    for chunk in normalise(text).split():
        for n in sizes:
            grams.extend(chunk[i : i + n] for i in range(len(chunk) - n + 1))
    return grams


@functools.lru_cache(maxsize=1)
def pinyin_table() -> dict[str, str]:
    """Character -> toneless pinyin (``pinyin.txt``: a syllable, then its characters)."""
    table: dict[str, str] = {}
    for line in PINYIN_PATH.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            syllable, chars = line.split()
            table.update(dict.fromkeys(chars, syllable))
    return table


class Classifier:
    """Multinomial naive Bayes; ``fit`` then ``predict``."""

    def __init__(self, keywords: Mapping[str, Iterable[str]] | None = None) -> None:
        self.keywords = {c: tuple(normalise(k) for k in ws) for c, ws in (keywords or {}).items()}
        self.classes: list[str] = []
        self._log_prior: dict[str, float] = {}
        self._log_prob: dict[str, dict[str, float]] = {}
        self._log_unseen: dict[str, float] = {}
        self._pairs: Counter[str] = Counter()  # character pairs of the training texts
        self._homophones: dict[tuple[str, str], str] = {}  # pinyin pair -> its usual pair

    def features(self, text: str) -> list[str]:
        feats = ngrams(text)
        norm = normalise(text)
        for category, words in self.keywords.items():
            if any(word and word in norm for word in words):
                feats.extend([f"kw:{category}"] * KEYWORD_WEIGHT)
        return feats

    def fit(self, examples: Iterable[tuple[str, str]]) -> Classifier:
        examples = list(examples)
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        docs: Counter[str] = Counter()
        for text, category in examples:
            counts[category].update(self.features(text))
            docs[category] += 1
        for category, words in self.keywords.items():
            for word in words:  # each keyword: one more example of its category
                counts[category].update(self.features(word))
                docs[category] += 1
        if not set(docs) - {BACKGROUND}:
            raise TrainingDataError("no training examples of a complaint category")
        self._learn_pairs(
            [text for text, _ in examples] + [w for ws in self.keywords.values() for w in ws]
        )
        vocabulary = set().union(*counts.values())
        total_docs = sum(docs.values())
        self.classes = sorted(docs)
        for category in self.classes:
            total = sum(counts[category].values()) + ALPHA * (len(vocabulary) + 1)
            self._log_prior[category] = math.log(docs[category] / total_docs)
            self._log_prob[category] = {
                gram: math.log((n + ALPHA) / total) for gram, n in counts[category].items()
            }
            self._log_unseen[category] = math.log(ALPHA / total)
        return self

    def _learn_pairs(self, texts: Iterable[str]) -> None:
        pinyin = pinyin_table()
        self._pairs = Counter(
            chunk[i : i + 2]
            for text in texts
            for chunk in normalise(text).split()
            for i in range(len(chunk) - 1)
        )
        usual: dict[tuple[str, str], tuple[int, str]] = {}
        for pair, n in self._pairs.items():
            if n >= MIN_REPAIR_COUNT and pair[0] in pinyin and pair[1] in pinyin:
                key = (pinyin[pair[0]], pinyin[pair[1]])
                if n > usual.get(key, (0, ""))[0]:
                    usual[key] = (n, pair)
        self._homophones = {key: pair for key, (_, pair) in usual.items()}

    def repair(self, text: str) -> str:
        """``text`` normalised, with pinyin-input homophones of known pairs repaired."""
        pinyin, known = pinyin_table(), self._pairs
        chunks = []
        for chunk in normalise(text).split():
            chars = list(chunk)
            for i in range(len(chars) - 1):
                a, b = chars[i], chars[i + 1]
                if a + b in known or a not in pinyin or b not in pinyin:
                    continue
                usual = self._homophones.get((pinyin[a], pinyin[b]))
                if usual is None:
                    continue
                repaired = [*chars[:i], *usual, *chars[i + 2 :]]
                if _known_around(repaired, i, known) > _known_around(chars, i, known):
                    chars = repaired
            chunks.append("".join(chars))
        return " ".join(chunks)

    def predict(self, text: str) -> Prediction:
        feats = self.features(self.repair(text))
        if not self.classes:
            raise RuntimeError("the classifier is not trained")
        scale = TEMPERATURE / max(len(feats), MIN_FEATURES)
        scores = {}
        for category in self.classes:
            probs, unseen = self._log_prob[category], self._log_unseen[category]
            likelihood = sum(probs.get(f, unseen) for f in feats)
            scores[category] = self._log_prior[category] + likelihood * scale
        top = max(scores.values())
        exp = {c: math.exp(s - top) for c, s in scores.items()}
        norm = sum(exp.values())
        ranking = tuple(sorted(((c, e / norm) for c, e in exp.items()), key=lambda x: -x[1]))
        best = next((c, p) for c, p in ranking if c != BACKGROUND)
        return Prediction(best[0], best[1], ranking)


def _known_around(chars: list[str], i: int, known: Mapping[str, int]) -> int:
    """How many of the pairs overlapping ``chars[i:i + 2]`` are known."""
    window = range(max(0, i - 1), min(len(chars) - 1, i + 2))
    return sum(chars[j] + chars[j + 1] in known for j in window)


def load_examples(folder: Path | str = DATA_DIR) -> list[tuple[str, str]]:
    """(description, category) from every ``*.yml`` file of ``folder``."""
    examples: list[tuple[str, str]] = []
    paths = sorted(Path(folder).glob("*.yml"))
    if not paths:
        raise TrainingDataError(f"{folder}: no *.yml training files")
    for path in paths:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise TrainingDataError(f"{path}: cannot read: {exc}") from None
        if not isinstance(raw, Mapping) or not raw.get("category"):
            raise TrainingDataError(f"{path}: needs 'category' and 'examples'")
        items = raw.get("examples")
        if not isinstance(items, list) or not items:
            raise TrainingDataError(f"{path}: 'examples' must be a non-empty list")
        for i, text in enumerate(items, start=1):
            if not isinstance(text, str) or not text.strip():
                raise TrainingDataError(f"{path}: example {i} is empty or not text")
            examples.append((text.strip(), str(raw["category"])))
    return examples


def train(keywords: Mapping[str, Iterable[str]], folder: Path | str = DATA_DIR) -> Classifier:
    return Classifier(keywords).fit(load_examples(folder))


@functools.lru_cache(maxsize=2)
def _cached(keywords: tuple[tuple[str, tuple[str, ...]], ...], folder: str) -> Classifier:
    return train(dict(keywords), folder)


def classifier_for(
    keywords: Mapping[str, Iterable[str]], folder: Path | str = DATA_DIR
) -> Classifier:
    """The trained classifier for these keywords and training files (cached)."""
    key = tuple(sorted((c, tuple(ws)) for c, ws in keywords.items()))
    return _cached(key, str(folder))
