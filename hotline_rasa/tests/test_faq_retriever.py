"""The FAQ retriever (hotline_rasa/faq_retriever.py): trains on the retrieval
intent's phrasings, persists, loads, and writes the same ``response_selector``
output as Rasa's ResponseSelector, so actions and evaluation read it unchanged."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline_rasa.faq_retriever import (
    MODEL_FORMAT,
    FaqRetriever,
    FaqRetrieverError,
    catalog_path,
    read_catalog,
)
from hotline_rasa.hotline_gate import reading_fingerprint

ROOT = Path(__file__).resolve().parents[2]

FAQ = {
    "pension_transfer": ["外地交的社保能转到东莞吗", "社保跨省转移怎么办", "深圳的社保能转过来吗"],
    "fund_loan": ["公积金贷款最多贷多少", "用公积金买房能贷多少钱", "公积金贷款额度怎么算"],
    "power_price": ["阶梯电价怎么算", "电费为什么这么贵", "居民用电分几档收费"],
    "gas_leak": ["燃气泄漏了怎么办", "家里有煤气味怎么处理", "闻到燃气味应该怎么做"],
}
OTHER = {"complain": ["楼下烧烤店太吵了", "小区门口乱停车"], "greet": ["你好", "在吗"]}


def training_data(faq: dict[str, list[str]] = FAQ, responses: bool = True) -> TrainingData:
    examples = [
        Message(data={"text": t, "intent": "faq", "intent_response_key": f"faq/{key}"})
        for key, texts in faq.items()
        for t in texts
    ]
    examples += [Message(data={"text": t, "intent": i}) for i, ts in OTHER.items() for t in ts]
    answers = {f"utter_faq/{key}": [{"text": f"{key} 的答复"}] for key in faq} if responses else {}
    return TrainingData(training_examples=examples, responses=answers)


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


def trained_and_loaded(tmp_path: Path, data: TrainingData, **cfg: Any) -> FaqRetriever:
    (tmp_path / "storage").mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("faq_retriever")
    config = {**FaqRetriever.get_default_config(), "catalog": None, **cfg}
    retriever = FaqRetriever.create(config, storage, resource, context())
    assert retriever.train(data) == resource
    return FaqRetriever.load(config, storage, resource, context())


def choice(message: Message) -> dict[str, Any]:
    return message.get("response_selector")["faq"]


def test_trains_persists_loads_and_chooses_the_entry(tmp_path: Path) -> None:
    retriever = trained_and_loaded(tmp_path, training_data())
    assert len(list((tmp_path / "storage").rglob("*.joblib"))) == 1
    questions = {
        "我在湖南交的社保可以转来东莞吗": "faq/pension_transfer",
        "公积金能贷多少钱啊": "faq/fund_loan",
        "电费阶梯怎么收": "faq/power_price",
        "屋里一股煤气味咋办": "faq/gas_leak",
    }
    messages = [Message(data={"text": t}) for t in questions]
    retriever.process(messages)
    for message, key in zip(messages, questions.values(), strict=True):
        selected = choice(message)
        response = selected["response"]
        assert response["intent_response_key"] == key, message.get("text")
        assert response["utter_action"] == f"utter_{key}"
        assert response["responses"] == [{"text": f"{key.split('/')[1]} 的答复"}]
        confidences = [r["confidence"] for r in selected["ranking"]]
        assert confidences == sorted(confidences, reverse=True)
        assert response["confidence"] == confidences[0] > 0.5
        assert {r["intent_response_key"] for r in selected["ranking"]} == {f"faq/{k}" for k in FAQ}
        assert message.get("response_selector")["all_retrieval_intents"] == ["faq"]
        # in the parse result, as ResponseSelector's output is
        assert "response_selector" in message.as_dict(only_output_properties=True)


def test_the_weights_are_kept_sparse_and_pruned(tmp_path: Path) -> None:
    import numpy as np
    import scipy.sparse

    from hotline_rasa.faq_retriever import prune

    retriever = trained_and_loaded(tmp_path, training_data())
    assert retriever._retriever is not None
    weights = retriever._retriever.weights
    assert scipy.sparse.issparse(weights) and weights.dtype == np.float32
    assert weights.shape[1] == len(FAQ)  # features x entries
    assert np.abs(weights.data).min() >= 0.003

    dense = np.array([[0.5, -0.001, 0.0], [0.002, -0.2, 0.004]])
    pruned = prune(dense, 0.003)
    assert pruned.nnz == 3 and pruned.toarray().tolist() == [
        [0.5, 0.0, 0.0],
        [0.0, pytest.approx(-0.2), pytest.approx(0.004)],
    ]
    assert prune(dense, 0).nnz == 5


def test_a_message_like_no_entry_gets_a_low_confidence(tmp_path: Path) -> None:
    retriever = trained_and_loaded(tmp_path, training_data())
    near, far = Message(data={"text": "阶梯电价怎么算"}), Message(data={"text": "哈哈哈嗯嗯"})
    retriever.process([near, far])
    assert choice(far)["response"]["confidence"] < 0.5 < choice(near)["response"]["confidence"]


def test_scale_sharpens_the_confidence_without_changing_the_choice(tmp_path: Path) -> None:
    soft = trained_and_loaded(tmp_path / "a", training_data(), scale=1.0)
    sharp = trained_and_loaded(tmp_path / "b", training_data(), scale=20.0)
    one, two = Message(data={"text": "公积金贷款额度"}), Message(data={"text": "公积金贷款额度"})
    soft.process([one])
    sharp.process([two])
    assert choice(one)["response"]["intent_response_key"] == "faq/fund_loan"
    assert choice(two)["response"]["intent_response_key"] == "faq/fund_loan"
    assert choice(one)["response"]["confidence"] < choice(two)["response"]["confidence"]


def test_decision_values_are_the_svms(tmp_path: Path) -> None:
    """The transposed weights give scikit-learn's own decision values."""
    import numpy as np
    from sklearn.svm import LinearSVC

    from hotline_rasa.faq_retriever import Retriever

    texts = [t for texts in FAQ.values() for t in texts]
    keys = [f"faq/{k}" for k, texts in FAQ.items() for _ in texts]
    config = {**FaqRetriever.get_default_config(), "prune_below": 0}
    retriever = Retriever.fit(texts, keys, {}, config)
    reference = LinearSVC(C=1.0, max_iter=5000, random_state=0)
    from sklearn.preprocessing import normalize

    from hotline_rasa.hotline_gate import normalise

    matrix = normalize(retriever.features.transform([normalise(t) for t in texts]))
    reference.fit(matrix, keys)
    queries = ["公积金能贷多少", "煤气味", "电费"]
    expected = reference.decision_function(
        normalize(retriever.features.transform([normalise(q) for q in queries]))
    )
    assert np.allclose(retriever.decision(queries), expected, atol=1e-4)


def test_two_entries_and_one_entry(tmp_path: Path) -> None:
    two = {k: FAQ[k] for k in ("fund_loan", "gas_leak")}
    retriever = trained_and_loaded(tmp_path / "two", training_data(two))
    message = Message(data={"text": "闻到煤气味了"})
    retriever.process([message])
    assert choice(message)["response"]["intent_response_key"] == "faq/gas_leak"

    one = {"gas_leak": FAQ["gas_leak"]}
    retriever = trained_and_loaded(tmp_path / "one", training_data(one))
    message = Message(data={"text": "随便什么"})
    retriever.process([message])
    assert choice(message)["response"]["intent_response_key"] == "faq/gas_leak"


def test_no_faq_examples_means_no_choice(tmp_path: Path) -> None:
    retriever = trained_and_loaded(tmp_path, training_data({}))
    message = Message(data={"text": "阶梯电价怎么算"})
    retriever.process([message])
    assert message.get("response_selector") is None


def test_an_entry_without_a_response_is_named(tmp_path: Path) -> None:
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    config = {**FaqRetriever.get_default_config(), "catalog": None}
    retriever = FaqRetriever.create(config, storage, Resource("r"), context())
    with pytest.raises(FaqRetrieverError, match="fund_loan"):
        retriever.train(training_data(responses=False))


def write_catalog(path: Path, faq: dict[str, list[str]]) -> Path:
    entries = [
        {"id": key, "question": texts[0], "examples": texts[1:], "answer": f"{key} 的答复"}
        for key, texts in faq.items()
    ]
    path.write_text(yaml.safe_dump({"entries": entries}, allow_unicode=True), encoding="utf-8")
    return path


def test_it_learns_the_catalog_phrasings_the_nlu_data_leaves_out(tmp_path: Path) -> None:
    """The NLU data holds only each entry's question (what DIET is given when
    the catalog outgrows its budget); the catalog holds the rest."""
    catalog = write_catalog(tmp_path / "faq.yml", FAQ)
    questions_only = training_data({k: v[:1] for k, v in FAQ.items()}, responses=False)
    retriever = trained_and_loaded(tmp_path, questions_only, catalog=str(catalog))
    message = Message(data={"text": "家里有煤气味"})  # an example, not the question
    retriever.process([message])
    response = choice(message)["response"]
    assert response["intent_response_key"] == "faq/gas_leak"
    assert response["responses"] == [{"text": "gas_leak 的答复"}]  # the catalog's answer


def test_the_catalog_is_part_of_the_fingerprint(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "faq.yml", FAQ)
    first = FaqRetriever.fingerprint_addon({"catalog": str(catalog)})
    write_catalog(catalog, {**FAQ, "new": ["新问题怎么办"]})
    assert FaqRetriever.fingerprint_addon({"catalog": str(catalog)}) != first
    # no catalog: the layout and how texts are read (hotline_gate.reading_fingerprint)
    assert FaqRetriever.fingerprint_addon({"catalog": None}) == (
        f"format:{MODEL_FORMAT}:{reading_fingerprint()}"
    )


def test_a_retriever_of_another_layout_is_refused_at_load(tmp_path: Path) -> None:
    """A retriever cached by older code (Rasa's cache ignores code) must not
    be served: loading names the problem and the fix."""
    import joblib

    retriever = trained_and_loaded(tmp_path, training_data())
    assert retriever._retriever is not None
    retriever._retriever.format = MODEL_FORMAT - 1
    (path,) = (tmp_path / "storage").rglob("*.joblib")
    joblib.dump(retriever._retriever, path)
    storage = LocalModelStorage(tmp_path / "storage")
    with pytest.raises(FaqRetrieverError, match="retrain the model"):
        FaqRetriever.load(
            FaqRetriever.get_default_config(), storage, Resource("faq_retriever"), context()
        )


def test_a_bad_catalog_is_named(tmp_path: Path) -> None:
    with pytest.raises(FaqRetrieverError, match="no such file"):
        read_catalog(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("entries:\n  - id: x\n", encoding="utf-8")
    with pytest.raises(FaqRetrieverError, match="entry 1 needs 'id' and 'question'"):
        read_catalog(bad)


def test_the_shipped_catalog_reads() -> None:
    entries = read_catalog(ROOT / "data" / "knowledge" / "faq.yml")
    assert len(entries) >= 73 and all(len(phrasings) >= 2 for _, phrasings, _ in entries)


def test_bad_scale_is_refused(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    for bad in (0, -1, "big"):
        with pytest.raises(ValueError, match="scale"):
            FaqRetriever({"scale": bad}, storage, Resource("r"))
    with pytest.raises(ValueError, match="scale_per_log_entry"):
        FaqRetriever({"scale_per_log_entry": 0}, storage, Resource("r"))


def test_auto_scale_grows_with_the_catalog(tmp_path: Path) -> None:
    four = trained_and_loaded(tmp_path / "four", training_data())
    two = trained_and_loaded(tmp_path / "two", training_data({k: FAQ[k] for k in list(FAQ)[:2]}))
    per_log = FaqRetriever.get_default_config()["scale_per_log_entry"]
    assert four.scale() == pytest.approx(per_log * math.log(4))
    assert two.scale() == pytest.approx(per_log * math.log(2)) and two.scale() < four.scale()
    fixed = trained_and_loaded(tmp_path / "fixed", training_data(), scale=7)
    assert fixed.scale() == 7.0


def test_config_uses_the_retriever_and_no_response_selector() -> None:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    names = [c["name"] for c in pipeline]
    assert "ResponseSelector" not in names
    assert names.index("hotline_rasa.faq_retriever.FaqRetriever") < names.index(
        "FallbackClassifier"
    )


def test_a_relative_catalog_is_read_from_the_training_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As rasa train reads its data: a tree trained elsewhere (make
    knowledge-scale) learns its own catalog, not the project's."""
    (tmp_path / "data" / "knowledge").mkdir(parents=True)
    write_catalog(tmp_path / "data" / "knowledge" / "faq.yml", {"only": ["唯一的问题"]})
    monkeypatch.chdir(tmp_path)
    path = catalog_path(FaqRetriever.get_default_config())
    assert path == tmp_path / "data" / "knowledge" / "faq.yml"
    assert [entry for entry, _, _ in read_catalog(path)] == ["only"]


ANSWERS = {
    "pension_transfer": "可以办理转移。先在东莞参保，再申请转入！太短",
    "fund_loan": "额度看缴存余额和年限；最高贷款额度以公积金中心为准",
    "power_price": "居民用电按月分三档计价。",
    "gas_leak": "立即关闭燃气总阀，打开门窗通风。不要开关电器\n离开后拨打抢修电话",
}


def test_answer_rows_are_the_answers_sentences() -> None:
    from hotline_rasa.faq_retriever import answer_rows

    responses = {f"utter_faq/{k}": [{"text": a}] for k, a in ANSWERS.items()}
    texts, keys = answer_rows(["faq/pension_transfer", "faq/gas_leak", "faq/none"], responses)
    assert texts == [
        "可以办理转移",
        "先在东莞参保，再申请转入",
        "立即关闭燃气总阀，打开门窗通风",
        "不要开关电器",
        "离开后拨打抢修电话",
    ]  # "太短" is too short; an entry without a response has none
    assert keys == ["faq/pension_transfer"] * 2 + ["faq/gas_leak"] * 3


def test_answer_weight_learns_the_answers_in_the_phrasings_vocabulary(tmp_path: Path) -> None:
    data = training_data()
    data.responses = {f"utter_faq/{k}": [{"text": a}] for k, a in ANSWERS.items()}
    plain = trained_and_loaded(tmp_path / "a", data)
    with_answers = trained_and_loaded(tmp_path / "b", data, answer_weight=1.0)
    assert plain._retriever is not None and with_answers._retriever is not None
    # the answers' own n-grams do not enter the vocabulary: the model does not grow by them
    assert with_answers._retriever.weights.shape == plain._retriever.weights.shape
    message = "公积金贷款额度看缴存余额吗"
    keys = plain._retriever.keys
    before = plain._retriever.scores([message], plain.scale())[0]
    after = with_answers._retriever.scores([message], with_answers.scale())[0]
    assert after[keys.index("faq/fund_loan")] > before[keys.index("faq/fund_loan")]
    assert FaqRetriever.get_default_config()["answer_weight"] == 0.0  # off unless configured
