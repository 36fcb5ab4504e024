"""Task readers (real XNLI / XCOPA files, faked hub), prompts, k-shot items, bad input."""

import json

import datasets
import pytest

from xlnb.evaluate import evaluate_task, get_task, load_docs, load_items
from xlnb.evaluate.xcopa import CONNECTORS

XCOPA_LANGS = [lang for lang in CONNECTORS if lang != "en"]


# --- real files ----------------------------------------------------------------------

def test_xnli_reads_real_dev_files(shared_data):
    root = shared_data / "xnli"
    for file in sorted(root.glob("dev-*.tsv")):
        lang = file.stem.split("-", 1)[1]
        lines = file.read_text(encoding="utf-8").splitlines()
        premise, hypothesis, label = lines[0].split("\t")
        docs = load_docs("xnli", lang, path=root)
        assert len(docs) == len(lines) == 2490
        assert docs[0] == dict(premise=premise, hypothesis=hypothesis,
                               label=["entailment", "neutral", "contradiction"].index(label))
    assert {d["label"] for d in docs} == {0, 1, 2}


def test_xnli_prompt_is_lm_eval_template(shared_data):
    item = load_items("xnli", "en", split="dev", path=shared_data / "xnli", n=1)[0]
    assert item.context == "And he said, Mama, I'm home., right?"
    hyp = "He called his mom as soon as the school bus dropped him off."
    assert item.options == [f"Yes, {hyp}", f"Also, {hyp}", f"No, {hyp}"]
    assert item.label == 1 and item.delimiter == " "
    sw = load_items("xnli", "sw", path=shared_data / "xnli", n=1)[0]
    assert sw.context.endswith(", sahihi?") and sw.options[2].startswith("Hapana, ")


@pytest.mark.parametrize("lang", XCOPA_LANGS)
def test_xcopa_reads_real_files(shared_data, lang):
    root = shared_data / "xcopa"
    if not (root / lang).is_dir():
        pytest.skip(f"{root / lang} not present")
    text = (root / lang / f"test.{lang}.jsonl").read_text(encoding="utf-8")
    first = json.loads(text.splitlines()[0])
    test = load_docs("xcopa", lang, path=root)
    assert len(test) == 500
    assert len(load_docs("xcopa", lang, split="validation", path=root)) == 100
    assert test[0]["premise"] == first["premise"] and test[0]["label"] == first["label"]


def test_xcopa_english_copa_files(shared_data):
    root = shared_data / "xcopa"
    sizes = {s: len(load_docs("xcopa", "en", split=s, path=root)) for s in ("test", "val", "train")}
    assert sizes == {"test": 500, "val": 100, "train": 400}
    item = load_items("xcopa", "en", path=root, n=1)[0]
    assert item.context == "The item was packaged in bubble wrap because"
    assert item.options == ["it was fragile.", "it was small."] and item.label == 0


def test_xcopa_prompt_uses_language_connectors(shared_data):
    items = load_items("xcopa", "et", path=shared_data / "xcopa", n=2)
    assert items[0].context == "Ese oli mullikilesse mässitud sest"  # cause
    assert items[0].options == ["see oli õrn.", "see oli väike."]
    assert items[1].context == "Ma tühjendasin oma taskud seetõttu"  # effect


# --- k-shot --------------------------------------------------------------------------

def test_k_shot_demos_are_seeded_and_never_the_item(shared_data):
    root = shared_data / "xcopa"
    spec = get_task("xcopa")
    docs = load_docs("xcopa", "it", split="validation", path=root)
    solved = {spec.demo_text(d, "it") for d in docs}
    items = load_items("xcopa", "it", split="validation", path=root, k_shot=3, seed=1)
    for doc, item in zip(docs, items):
        parts = item.context.split("\n\n")
        assert len(parts) == 4 and parts[-1] == spec.doc_to_text(doc, "it")
        assert spec.demo_text(doc, "it") not in parts[:3]
        assert set(parts[:3]) <= solved and len(set(parts[:3])) == 3
    again = load_items("xcopa", "it", split="validation", path=root, n=5, k_shot=3, seed=1)
    assert [i.context for i in again] == [i.context for i in items[:5]]
    other = load_items("xcopa", "it", split="validation", path=root, n=5, k_shot=3, seed=2)
    assert [i.context for i in other] != [i.context for i in again]


def test_k_shot_demos_come_from_fewshot_split(shared_data):
    root = shared_data / "xcopa"
    spec = get_task("xcopa")
    docs = load_docs("xcopa", "tr", split="validation", path=root)
    pool = {spec.demo_text(d, "tr") for d in docs}
    for item in load_items("xcopa", "tr", path=root, n=10, k_shot=2):
        demos = item.context.split("\n\n")[:2]
        assert all(d in pool for d in demos)


def test_evaluate_task_end_to_end(shared_data):
    from xlnb.models import load_model

    model, tok = load_model("tiny-llama", device="cpu")
    result = evaluate_task(model, tok, "xnli", "es", path=shared_data / "xnli", n=6, k_shot=1,
                           progress=False)
    frame = result["items"]
    assert (result["task"], result["language"], result["split"], result["n"]) == ("xnli", "es",
                                                                                "validation", 6)
    assert len(frame) == 6 and result["acc"] == pytest.approx(frame["correct"].mean())
    assert result["acc_norm"] == pytest.approx(frame["correct_norm"].mean())
    assert all(len(ll) == 3 for ll in frame["loglik"])


# --- hub (faked) ---------------------------------------------------------------------

@pytest.fixture
def fake_hub(monkeypatch):
    calls = []
    rows = {
        "facebook/xnli": [dict(premise="Er kam.", hypothesis="Er ging.", label=2)] * 3,
        "cambridgeltl/xcopa": [dict(premise="P.", choice1="A.", choice2="B.", question="effect",
                                    label=1, idx=0, changed=False)] * 4,
        "pkavumba/balanced-copa": [dict(id=1, premise="Q.", choice1="C.", choice2="D.",
                                        question="cause", label=0, mirrored=False)] * 2,
    }

    def load_dataset(name, config=None, split=None, **kwargs):
        calls.append((name, config, split))
        if name not in rows:
            raise ConnectionError("offline")
        return rows[name]

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls


def test_hub_readers_call_load_dataset(fake_hub):
    xnli = load_items("xnli", "de", n=2)
    assert fake_hub[-1] == ("facebook/xnli", "de", "validation")
    assert len(xnli) == 2 and xnli[0].context == "Er kam., richtig?" and xnli[0].label == 2
    xcopa = load_items("xcopa", "zh")
    assert fake_hub[-1] == ("cambridgeltl/xcopa", "zh", "test")
    assert xcopa[0].context == "P 所以" and xcopa[0].options == ["a.", "b."] and len(xcopa) == 4
    load_docs("xcopa", "en")
    assert fake_hub[-1] == ("pkavumba/balanced-copa", None, "test")


def test_hub_failure_is_a_clear_error(fake_hub, monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(FileNotFoundError, match="facebook/xnli.*path="):
        load_docs("xnli", "fr")


def test_hub_bad_label_rejected(monkeypatch):
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: [
        dict(premise="p", hypothesis="h", label=-1)])
    with pytest.raises(ValueError, match="row 0: label -1"):
        load_docs("xnli", "en")


# --- bad input -----------------------------------------------------------------------

def test_unknown_task_language_split(tmp_path):
    with pytest.raises(LookupError, match="unknown task 'xstorycloze'"):
        load_docs("xstorycloze", "en", path=tmp_path)
    with pytest.raises(LookupError, match="no language 'de'"):
        load_docs("xcopa", "de", path=tmp_path)
    with pytest.raises(ValueError, match="no split 'dvev'"):
        load_docs("xnli", "en", split="dvev", path=tmp_path)
    with pytest.raises(ValueError, match="n must be"):
        load_docs("xnli", "en", path=tmp_path, n=0)
    with pytest.raises(ValueError, match="k_shot"):
        load_items("xnli", "en", path=tmp_path, k_shot=-1)


def test_missing_files_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="dev-en.tsv"):
        load_docs("xnli", "en", path=tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_docs("xcopa", "et", path=tmp_path / "nowhere")


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


GOOD = '{"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "cause", "label": 0}'


@pytest.mark.parametrize("line, match", [
    ("{not json", r"test.et.jsonl:2: not valid JSON"),
    ('["a list"]', r"test.et.jsonl:2: expected a JSON object"),
    (GOOD.replace('"label": 0', '"label": 2'), r"test.et.jsonl:2: label 2"),
    (GOOD.replace('"label": 0', '"label": "0"'), r"label '0'"),
    (GOOD.replace("cause", "reason"), r"question 'reason'"),
    (GOOD.replace(', "choice2": "B."', ""), r"missing field\(s\) choice2"),
])
def test_malformed_xcopa_lines(tmp_path, line, match):
    write(tmp_path / "et" / "test.et.jsonl", GOOD + "\n" + line + "\n")
    with pytest.raises(ValueError, match=match):
        load_docs("xcopa", "et", path=tmp_path)


@pytest.mark.parametrize("line, match", [
    ("p\th", r"dev-tr.tsv:2: expected 3 tab-separated fields"),
    ("p\th\tmaybe", r"dev-tr.tsv:2: label 'maybe'"),
    ("p\th\t3", r"dev-tr.tsv:2: label 3"),
    ("\th\tneutral", r"dev-tr.tsv:2: empty premise"),
])
def test_malformed_xnli_lines(tmp_path, line, match):
    write(tmp_path / "dev-tr.tsv", "p\th\tneutral\n" + line + "\n")
    with pytest.raises(ValueError, match=match):
        load_docs("xnli", "tr", path=tmp_path)


def test_too_few_demonstrations(tmp_path):
    write(tmp_path / "et" / "test.et.jsonl", GOOD + "\n")
    write(tmp_path / "et" / "val.et.jsonl", GOOD + "\n" + GOOD.replace("P.", "Q.") + "\n")
    assert len(load_items("xcopa", "et", path=tmp_path, k_shot=1)[0].context.split("\n\n")) == 2
    with pytest.raises(ValueError, match="only 1 demonstrations"):
        load_items("xcopa", "et", path=tmp_path, k_shot=2)
