"""Each notebook's ``paper`` profile against what the paper states: models, data, split,
languages and number of sentences. The table below is transcribed from the papers' texts
(section cited per entry; ../shared/papers/settings.yaml collects the same facts), not from
the params files, so a profile that drifts from the paper fails here."""

from __future__ import annotations

import pytest

from xlnb.data.languages import get_language
from xlnb.params import load_params

# NeuronXA App. A.1: the 68 FLORES-200 "Head" languages
NEURONXA_HEAD = """bel_Cyrl bos_Latn hun_Latn epo_Latn khm_Khmr urd_Arab srp_Cyrl jav_Latn hye_Armn
gla_Latn por_Latn lit_Latn bul_Cyrl slk_Latn mal_Mlym ita_Latn nno_Latn mar_Deva hrv_Latn
hin_Deva kat_Geor ben_Beng fin_Latn cym_Latn oci_Latn cat_Latn fao_Latn xho_Latn spa_Latn
ron_Latn amh_Ethi ces_Latn swe_Latn nld_Latn tat_Cyrl kor_Hang glg_Latn fra_Latn eus_Latn
ind_Latn dan_Latn tha_Thai deu_Latn tel_Telu afr_Latn pol_Latn est_Latn uig_Arab ukr_Cyrl
uzn_Latn heb_Hebr kaz_Cyrl nob_Latn rus_Cyrl vie_Latn arb_Arab zho_Hans tuk_Latn khk_Cyrl
jpn_Jpan ell_Grek isl_Latn tam_Taml slv_Latn tur_Latn mkd_Cyrl tgl_Latn gle_Latn""".split()

# MidAlign App. C / Table 9: the 35 languages of the retrieval analysis
MIDALIGN_35 = """af ar az cs cy de el en es fr he hi is ja jv ru sw th tl tr uk ur zh am bn it hu
hy id kn ka mn km ko lv""".split()

# Table 2's twelve pairs (§4.2), by language name in the paper
NEURONXA_TABLE2_PAIRS = [("en", "de"), ("it", "fr"), ("de", "fr"), ("fr", "zh"),
                         ("de", "szl"), ("fr", "pa"), ("it", "bjn"), ("it", "ug"),
                         ("az", "tk"), ("hu", "yi"), ("gu", "bjn"), ("kk", "tt")]

LLAMA31 = ["meta-llama/Llama-3.1-8B"]
# §3 Models: nine models; GLM 4 9B is left out of the profile (its fused FFN is not hooked)
NEURONXA_MODELS = ["meta-llama/Llama-3.1-8B", "meta-llama/Meta-Llama-3-8B",
                   "meta-llama/Llama-2-7b-hf", "meta-llama/Llama-3.2-3B", "Qwen/Qwen2.5-14B",
                   "Qwen/Qwen2.5-7B", "mistralai/Mistral-7B-v0.3", "allenai/OLMo-2-1124-7B"]

PAPER = {
    # MidAlign §2, §4.2, App. C: FLORES-200 dev, 997 sentences, both base models
    "midalign/fig1a_layer_retrieval": dict(
        models=["meta-llama/Meta-Llama-3-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct"],
        data_source="flores200", split="dev", n_sentences=997, languages=MIDALIGN_35),
    # NeuronXA §3.1, App. A: FLORES-200 devtest (1012 sentences), all 204 varieties;
    # head = App. A's 68, long tail = the other 135 (English excluded)
    "neuronxa/tab1_retrieval_embedding_vs_nas": dict(
        models=LLAMA31, data_source="flores200", split="devtest", n_sentences=1012,
        pivot="en", head_languages=NEURONXA_HEAD, n_languages=204),
    # NeuronXA Fig. 1: 100 Tatoeba zh-en pairs
    "neuronxa/fig1_tsne": dict(models=LLAMA31, data_source="tatoeba", n_sentences=100,
                               languages=["zh", "en"]),
    # NeuronXA §3.2, §4.2: Llama 2 7B and Llama 3.1 8B, 100 FLORES-200 sentences, en pivot
    "neuronxa/fig2_layer_scores": dict(
        models=["meta-llama/Llama-2-7b-hf", "meta-llama/Llama-3.1-8B"], data_source="flores200",
        split="devtest", n_sentences=100, pivot="en"),
    # NeuronXA §4.2, Table 2: the twelve pairs on FLORES-200 (n: §3.2's 100)
    "neuronxa/tab2_language_pairs": dict(models=LLAMA31, data_source="flores200",
                                         split="devtest", n_sentences=100,
                                         pairs=NEURONXA_TABLE2_PAIRS),
    # NeuronXA §3.2-§4.3, Table 4, App. A.2: 100 FLORES sentences, en pivot, Belebele's 117
    # FLORES languages, 5-shot lm-eval results (the command in the profile's comment)
    "neuronxa/tab4_correlations": dict(models=NEURONXA_MODELS, data_source="flores200",
                                       split="devtest", n_sentences=100, pivot="en",
                                       n_languages=117),
    # NeuronXA App. E, §3.2: n = 100, the head languages against English
    "neuronxa/appE_chance": dict(models=LLAMA31, data_source="flores200", split="devtest",
                                 n_sentences=100, pivot="en",
                                 languages=["eng_Latn"] + NEURONXA_HEAD),
    # CL-ICP §4, §6.1: Qwen 2.5 7B and Llama 3.1 8B on XQuAD, English source; Fig. 2 is En-Zh,
    # XQuAD's other target languages are Es, Tr, El
    "clicp/fig2_cosine_deviation": dict(models=["Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B"],
                                        data_source="xquad", source_language="en",
                                        target_languages=["zh", "es", "tr", "el"]),
    # CL-ICP §3.2: the single-output linear model
    "clicp/fig1_toy_gradient_alignment": dict(n_outputs=1),
    # MidAlign §6.3, App. D.3: Table 2's slot-filling SFT merged with §6.2's alignment-only
    # module (Tatoeba {cy, ja, jv, sw, tl}-en, middle layer), task weights {0.5, 0.7, 0.9}
    "midalign/tab6_merging": dict(
        model="meta-llama/Meta-Llama-3-8B-Instruct", slot_train_languages=["ar", "en", "es", "ru", "zh"],
        slot_align_languages=["cy", "ja", "jv", "sw", "tl"], align_source="tatoeba",
        align_layer="middle", merge_weights=[0.5, 0.7, 0.9], learning_rate=0.0005,
        align_learning_rate=0.0005, align_pair_batch_size=32),
    # MidAlign §2: SFT on MASSIVE's five training languages, middle-layer retrieval on
    # FLORES-200 dev (997 sentences, §4.2)
    "midalign/fig1b_alignment_vs_transfer": dict(
        model="meta-llama/Meta-Llama-3-8B-Instruct", task="slot_filling",
        train_languages=["ar", "en", "es", "ru", "zh"], alignment_layer="middle",
        retrieval_split="dev", n_retrieval=997),
    # MidAlign §4.1, Table 1, Table 7, fn. 7: UNER JSON generation, SFT on en, pt, zh, transfer
    # to da, hr, sk, sr, sv, Tatoeba pairs for da and sv (sr left out), middle layer
    "midalign/tab7_json_generation": dict(
        model="meta-llama/Meta-Llama-3-8B-Instruct", systems=["sft", "sft+align"],
        train_languages=["en", "pt", "zh"],
        test_languages=["en", "pt", "zh", "da", "hr", "sk", "sr", "sv"],
        align_languages=["da", "sv"], align_source="tatoeba", align_layer="middle",
        temperature=0.1, learning_rate=0.0005, pair_batch_size=32),
}


def _flores(codes) -> set[str]:
    return {get_language(c).flores for c in codes}


@pytest.mark.parametrize("ref", sorted(PAPER))
def test_paper_profile_matches_the_paper(ref):
    params = load_params(ref, "paper")
    for key, want in PAPER[ref].items():
        if key == "n_languages":
            assert len(_flores(params["languages"])) == want, (ref, key)
        elif key in ("languages", "head_languages", "target_languages"):
            assert _flores(params[key]) == _flores(want), (ref, key)
        elif key in ("pivot", "source_language"):
            assert get_language(params[key]).flores == get_language(want).flores, (ref, key)
        elif key == "pairs":
            got = {frozenset(_flores(p)) for p in params[key]}
            assert got == {frozenset(_flores(p)) for p in want}, (ref, key)
        else:
            assert params[key] == want, (ref, key, params[key])


def test_table1_groups_are_app_a():
    # the long tail is everything but the head and English: 135 languages, none of them head
    from xlnb.neuronxa.table1 import head_long_tail

    params = load_params("neuronxa/tab1_retrieval_embedding_vs_nas", "paper")
    groups = head_long_tail(params["languages"], params["pivot"], params["head_languages"])
    assert len(groups["head"]) == 68 and len(groups["long-tail"]) == 135
    assert not _flores(groups["long-tail"]) & _flores(NEURONXA_HEAD)
    # App. C Table 5 with another pivot: English joins the head, never the long tail
    other = head_long_tail(params["languages"], "deu_Latn", params["head_languages"])
    assert "eng_Latn" in other["head"] and len(other["long-tail"]) == 135


def test_table2_profile_groups_are_the_papers():
    params = load_params("neuronxa/tab2_language_pairs", "paper")
    low = _flores(params["low_resource"])
    # Table 2's columns: high->high, high->low, low->low, four pairs each
    counts = [sum((get_language(a).flores in low) + (get_language(b).flores in low) == n
                  for a, b in params["pairs"]) for n in (0, 1, 2)]
    assert counts == [4, 4, 4]
