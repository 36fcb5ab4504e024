"""MT task (MidAlign §4.1, App. D.2): readers on the real ALMA / WMT 23 files and on broken
hand-made files, the hub route with a fake ``datasets.load_dataset``, the prompt, the parser,
and BLEU / chrF against values worked out by hand."""

import json
import math
import sys
import types

import datasets
import pytest
import sacrebleu.metrics

from xlnb.tasks import get_task, mt_metrics
from xlnb.tasks import mt as mtmod
from xlnb.tasks.mt import MT, bleu_tokenizer, parse_translation, read_alma, score_translations


def _lines(path):
    return path.read_text(encoding="utf-8").split("\n")[:-1]


# -- readers on the real files ---------------------------------------------------------------


def test_registered():
    assert isinstance(get_task("mt"), MT)


def test_alma_counts_and_directions(shared_data):
    task = MT(comet_model=None)
    train = task.load("de-en", "train", path=shared_data)
    assert len(train) == 14_211  # data README
    assert len(task.load("de-en", "dev", path=shared_data / "alma")) == 1_002
    first = json.loads(_lines(shared_data / "alma/deen/train.de-en.json")[0])["translation"]
    assert (train[0].source, train[0].target) == (first["de"], first["en"])
    assert train[0].language == "de" and train[0].meta["src"] == "de"
    reverse = task.load("en-de", "train", path=shared_data, n=3, seed=4)
    forward = task.load("de-en", "train", path=shared_data, n=3, seed=4)
    assert [(e.source, e.target) for e in reverse] == [(e.target, e.source) for e in forward]
    assert all(e.language == "de" and e.meta["tgt"] == "de" for e in reverse)


def test_alma_has_no_icelandic_dev(shared_data):
    with pytest.raises(FileNotFoundError, match="valid.is-en.json"):
        MT().load("is-en", "dev", path=shared_data)


@pytest.mark.parametrize("direction", ["de-en", "en-de", "en-ja", "he-en"])
def test_wmt23_matches_files(shared_data, direction):
    src, tgt = direction.split("-")
    folder = shared_data / "wmt23"
    sources = _lines(folder / f"generaltest2023.{direction}.src.{src}")
    refs = _lines(folder / f"generaltest2023.{direction}.ref.{tgt}")
    examples = MT().load(direction, "test", path=folder)
    assert len(examples) == len(sources) == len(refs)
    assert [e.source for e in examples] == sources and [e.target for e in examples] == refs


def test_wmt23_counts(shared_data):
    counts = {d: len(MT().load(d, "test", path=shared_data)) for d in ("de-en", "en-de", "ja-en")}
    assert counts == {"de-en": 549, "en-de": 557, "ja-en": 1992}


def test_subsampling_is_deterministic(shared_data):
    task = MT()
    a = task.load("en-zh", "test", path=shared_data, n=20, seed=1)
    b = task.load("en-zh", "test", path=shared_data, n=20, seed=1)
    c = task.load("en-zh", "test", path=shared_data, n=20, seed=2)
    assert a == b and a != c and len(a) == 20
    indices = [e.meta["index"] for e in a]
    assert indices == sorted(indices) and len(set(indices)) == 20
    with pytest.raises(ValueError, match="only 557"):
        task.load("en-de", "test", path=shared_data, n=558)


@pytest.mark.parametrize("direction", ["de-fr", "de", "en-en", "xx-en"])
def test_bad_direction(direction):
    with pytest.raises((ValueError, LookupError)):
        MT().load(direction, "test")


def test_bad_split():
    with pytest.raises(ValueError, match="validation"):
        MT().load("de-en", "validation")


# -- malformed files -------------------------------------------------------------------------


def _alma_dir(tmp_path, train_text=None, valid_text=None):
    folder = tmp_path / "deen"
    folder.mkdir()
    if train_text is not None:
        (folder / "train.de-en.json").write_text(train_text, encoding="utf-8")
    if valid_text is not None:
        (folder / "valid.de-en.json").write_text(valid_text, encoding="utf-8")
    return tmp_path


def test_malformed_jsonl_line_is_named(tmp_path):
    good = json.dumps({"translation": {"de": "Hallo", "en": "Hello"}})
    root = _alma_dir(tmp_path, f"{good}\n{good}\n{{not json\n")
    with pytest.raises(ValueError, match=r"train\.de-en\.json, line 3: malformed JSON"):
        MT().load("de-en", "train", path=root)


def test_missing_side_is_named(tmp_path):
    good = json.dumps({"translation": {"de": "Hallo", "en": "Hello"}})
    bad = json.dumps({"translation": {"de": "Hallo"}})
    root = _alma_dir(tmp_path, f"{good}\n{bad}\n")
    with pytest.raises(ValueError, match="line 2"):
        MT().load("de-en", "train", path=root)


def test_json_array_reader(tmp_path):
    items = [{"translation": {"de": f"Satz {i}", "en": f"Sentence {i}"}} for i in range(3)]
    root = _alma_dir(tmp_path, valid_text=json.dumps(items, indent=1))
    assert read_alma(root / "deen/valid.de-en.json", "de")[2] == ("Satz 2", "Sentence 2")
    (root / "deen/valid.de-en.json").write_text('[\n{"translation": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"valid\.de-en\.json: line \d"):
        MT().load("de-en", "dev", path=root)


# -- hub route (faked; never the network) ----------------------------------------------------


def test_hub_loaders(monkeypatch):
    calls = []

    def fake(name, config, split):
        calls.append((name, config, split))
        if name == mtmod.ALMA_HUB_ID:
            return [{"translation": {"de": "Guten Morgen", "en": "Good morning"}}]
        return [{config: {"en": "One", "de": "Eins"}}, {config: {"en": "Two", "de": "Zwei"}}]

    monkeypatch.setattr(datasets, "load_dataset", fake)
    dev = MT().load("en-de", "dev")
    assert (dev[0].source, dev[0].target) == ("Good morning", "Guten Morgen")
    test = MT().load("en-de", "test", n=1, seed=0)
    assert len(test) == 1 and test[0].target in ("Eins", "Zwei")
    assert calls == [("haoranxu/ALMA-Human-Parallel", "de-en", "validation"),
                     ("haoranxu/WMT23-Test", "en-de", "test")]


# -- prompt and parser -----------------------------------------------------------------------


def test_prompt_is_app_d2():
    task = MT()
    ex = mtmod.Example("x", "de", "Police arrest 15.", "Polizei verhaftet 15.",
                       {"src": "en", "tgt": "de"})
    assert task.messages(ex) == [
        {"role": "system", "content": "Translate the following sentences from English to German."},
        {"role": "user", "content": "Police arrest 15."}]
    ex = mtmod.Example("x", "zh", "你好", "Hello", {"src": "zh", "tgt": "en"})
    assert MT().messages(ex, zero_shot=True)[0]["content"] == (
        "Translate the following sentences from Chinese to English.")


@pytest.mark.parametrize("output, expected", [
    ("  Hallo Welt.  ", "Hallo Welt."),
    ("German: Hallo Welt.", "Hallo Welt."),
    ("german :Hallo", "Hallo"),
    ("Translation: Hallo", "Hallo"),
    ("\n\nHallo Welt.\nNote: this is a translation.", "Hallo Welt."),
    ("Hinweis: Der Laden schließt um 5.", "Hinweis: Der Laden schließt um 5."),
    ("English (US): Hi", "Hi"),
    ("", ""),
    ("German:\nHallo", "Hallo"),
])
def test_parse(output, expected):
    assert parse_translation(output) == expected


# -- metrics ---------------------------------------------------------------------------------


def _bleu(precisions, hyp_len, ref_len):
    """BLEU by its definition (Papineni et al., 2002): geometric mean of the 1-4-gram
    precisions times the brevity penalty, x 100."""
    bp = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return 100 * bp * math.exp(sum(math.log(p) for p in precisions) / 4)


def test_identical_is_100():
    hyps = ["Das ist ein Test.", "Noch ein Satz hier."]
    scores = score_translations(hyps, list(hyps), "de", comet_model=None)
    assert scores.bleu == pytest.approx(100) and scores.chrf == pytest.approx(100)
    assert scores.tokenize == "13a" and scores.notes == ()


def test_bleu_hand_case_13a():
    scores = score_translations(["the cat sat on the mat today"], ["the cat sat on the mat"],
                                "en", comet_model=None)
    assert scores.bleu == pytest.approx(_bleu([6 / 7, 5 / 6, 4 / 5, 3 / 4], 7, 6))


def test_chinese_uses_zh_tokenizer():
    hyp, ref = "我喜欢吃苹果和香蕉", "我喜欢吃苹果和梨"
    scores = score_translations([hyp], [ref], "zh", comet_model=None)
    assert scores.tokenize == "zh"
    assert scores.bleu == pytest.approx(_bleu([7 / 9, 6 / 8, 5 / 7, 4 / 6], 9, 8))
    # as one 13a token the sentence shares nothing with the reference
    assert sacrebleu.metrics.BLEU(tokenize="13a").corpus_score([hyp], [[ref]]).score < 1


def _chrf(hyp: str, ref: str, order: int = 6, beta: float = 2.0) -> float:
    """chrF (Popović, 2015), sacrebleu's default: whitespace removed, character n-gram
    precision and recall each averaged over orders 1..6, then F_beta, x 100. (Averaging the
    per-order F scores instead gives a different number on the case below.)"""
    from collections import Counter

    hyp, ref = hyp.replace(" ", ""), ref.replace(" ", "")
    precisions, recalls = [], []
    for n in range(1, order + 1):
        h = Counter(hyp[i:i + n] for i in range(len(hyp) - n + 1))
        r = Counter(ref[i:i + n] for i in range(len(ref) - n + 1))
        match = sum((h & r).values())
        precisions.append(match / sum(h.values()))
        recalls.append(match / sum(r.values()))
    p, r = sum(precisions) / order, sum(recalls) / order
    return 100 * (1 + beta**2) * p * r / (beta**2 * p + r)


def test_chrf_hand_case():
    hyp, ref = "the little cat sat", "a little cat sat down"
    scores = score_translations([hyp], [ref], "en", comet_model=None)
    assert scores.chrf == pytest.approx(_chrf(hyp, ref), abs=1e-9)


def test_tokenizer_selection():
    assert bleu_tokenizer("de") == ("13a", None)
    assert bleu_tokenizer("en") == ("13a", None)
    assert bleu_tokenizer("zh") == ("zh", None)
    name, note = bleu_tokenizer("ja")
    try:
        import MeCab  # noqa: F401
    except ImportError:
        assert name == "char" and "fell back" in note
    else:
        assert (name, note) == ("ja-mecab", None)


def test_japanese_falls_back_to_char(monkeypatch):
    real = sacrebleu.metrics.BLEU

    def no_mecab(*args, tokenize=None, **kwargs):
        if tokenize == "ja-mecab":
            raise RuntimeError("Japanese tokenization requires extra dependencies")
        return real(*args, tokenize=tokenize, **kwargs)

    monkeypatch.setattr(sacrebleu.metrics, "BLEU", no_mecab)
    with pytest.warns(UserWarning, match="fell back to 'char'"):
        scores = score_translations(["今日は良い天気"], ["今日は良い天気です"], "ja",
                                    comet_model=None)
    assert scores.tokenize == "char" and any("ja-mecab" in n for n in scores.notes)
    assert scores.bleu == pytest.approx(100 * math.exp(1 - 9 / 7))  # all precisions are 1


def test_task_score_parses_and_skips_missing_comet(monkeypatch):
    monkeypatch.setitem(sys.modules, "comet", None)  # import comet -> ImportError
    pairs = [("Hello, how are you today?", "Hallo, wie geht es dir heute?"),
             ("Good night and sleep well.", "Gute Nacht und schlaf gut.")]
    ex = [mtmod.Example(str(i), "de", s, t, {"src": "en", "tgt": "de"})
          for i, (s, t) in enumerate(pairs)]
    task = MT()
    outputs = ["German: Hallo, wie geht es dir heute?", "Gute Nacht und schlaf gut.\nNote: ..."]
    with pytest.warns(UserWarning, match="not installed"):
        report = task.score_report(outputs, ex)
    assert report.comet is None and report.as_dict() == pytest.approx({"bleu": 100, "chrf": 100})
    mixed = ex + [mtmod.Example("z", "de", "Hallo.", "Hello.", {"src": "de", "tgt": "en"})]
    with pytest.raises(ValueError, match="one direction"):
        task.score(["a", "b", "c"], mixed)


def test_comet_with_a_fake_package(monkeypatch):
    seen = {}

    class Model:
        def predict(self, data, batch_size, gpus, progress_bar):
            seen["data"] = data
            return types.SimpleNamespace(system_score=0.8125)

    fake = types.ModuleType("comet")
    fake.download_model = lambda name: f"/ckpt/{name}"
    fake.load_from_checkpoint = lambda path: Model()
    monkeypatch.setitem(sys.modules, "comet", fake)
    mt_metrics._comet_model.cache_clear()
    scores = score_translations(["Hallo"], ["Hallo"], "de", sources=["Hello"])
    assert scores.comet == pytest.approx(81.25) and scores.as_dict()["comet"] == scores.comet
    assert seen["data"] == [{"src": "Hello", "mt": "Hallo", "ref": "Hallo"}]

    def broken(name):
        raise OSError("offline")

    fake.download_model = broken
    mt_metrics._comet_model.cache_clear()
    with pytest.warns(UserWarning, match="did not load"):
        scores = score_translations(["Hallo"], ["Hallo"], "de", sources=["Hello"])
    assert scores.comet is None and "comet" not in scores.as_dict()
    mt_metrics._comet_model.cache_clear()
