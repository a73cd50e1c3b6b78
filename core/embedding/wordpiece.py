"""A pure-Python BERT WordPiece tokenizer that reads a `tokenizers` tokenizer.json and gives the same ids.

The serving path uses it instead of the `tokenizers` package, which pulls in huggingface-hub and friends
(docs/performance.md) for what is, for BERT models, a few string operations. It implements exactly the
pipeline of all-MiniLM-L6-v2's tokenizer.json, reading every parameter from the file:

* added tokens (the specials such as "[CLS]" or "[MASK]") are matched in the raw text first, longest first;
* BertNormalizer: clean_text (drop NUL, U+FFFD and control/format/private-use characters, map whitespace to
  a space), handle_chinese_chars (spaces around CJK ideographs), strip_accents (NFD, then drop nonspacing
  marks; it follows lowercase when null), lowercase (per character, so no final-sigma rule);
* BertPreTokenizer: split on whitespace, and isolate each punctuation character;
* WordPiece: greedy longest match with the continuing-subword prefix; a word longer than
  max_input_chars_per_word, or with any unmatched part, becomes the unknown token;
* the single-sequence post-processor template (TemplateProcessing or BertProcessing), after truncating the
  sequence so that it plus the special tokens fits in `max_length`. No padding: the caller pads a batch.

Character classes come from core/embedding/wordpiece_tables.py, probed from `tokenizers` itself, because its
Unicode category tables differ from Python's `unicodedata`. Anything else in the file (another model,
normalizer or pre-tokenizer type, added tokens matched after normalization or on word boundaries) raises
`UnsupportedTokenizer`, so a different model can never be tokenized silently wrong.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.embedding import wordpiece_tables as tables

# Distinct words whose WordPiece split is remembered: at most 100 characters each, so a few MB at worst.
WORD_CACHE_SIZE = 8192


class UnsupportedTokenizer(ValueError):
    """The tokenizer.json uses a component or option this module does not implement."""


@dataclass(frozen=True, slots=True)
class Encoding:
    """One text's tokens, with the fields of `tokenizers.Encoding` that the model needs."""

    ids: list[int]
    attention_mask: list[int]
    type_ids: list[int]


@dataclass(frozen=True, slots=True)
class _Template:
    """The single-sequence post-processor: special ids before and after the sequence, and all type ids."""

    prefix_ids: tuple[int, ...] = ()
    prefix_types: tuple[int, ...] = ()
    sequence_type: int = 0
    suffix_ids: tuple[int, ...] = ()
    suffix_types: tuple[int, ...] = ()

    @property
    def n_special(self) -> int:
        return len(self.prefix_ids) + len(self.suffix_ids)


def _char_class(ranges: Sequence[tuple[int, int]]) -> str:
    """The inside of a regex character class matching the code point ranges."""
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


_CLEAN_REMOVED = re.compile(f"[{_char_class(tables.CLEAN_REMOVED)}]+")
_CLEAN_SPACE = re.compile(f"[{_char_class(tables.CLEAN_SPACE)}]")
_CHINESE = re.compile(f"[{_char_class(tables.CHINESE)}]")
_NONSPACING_MARKS = re.compile(f"[{_char_class(tables.NONSPACING_MARKS)}]+")
_LOWERCASE_DIFFERENT = re.compile(f"[{_char_class([(cp, cp) for cp in tables.LOWERCASE])}]")
# Captured, so that re.split keeps them.
_NFD_DIFFERENT = re.compile(f"([{_char_class([(cp, cp) for cp in tables.NFD])}])")
_PUNCTUATION = _char_class(tables.PUNCTUATION)
# A punctuation character alone, or a run of characters that are neither punctuation nor whitespace.
_WORDS = re.compile(f"[{_PUNCTUATION}]|[^{_PUNCTUATION}{_char_class(tables.WHITESPACE)}]+")


def _nfd(text: str) -> str:
    """NFD as `tokenizers` does it: characters its older tables lack stay as they are and act as starters,
    which stop canonical reordering, so the text around them decomposes independently."""
    if not _NFD_DIFFERENT.search(text):
        return unicodedata.normalize("NFD", text)
    pieces = _NFD_DIFFERENT.split(text)  # Odd indexes hold the special characters.
    return "".join(
        tables.NFD[ord(piece)] if i % 2 else unicodedata.normalize("NFD", piece) for i, piece in enumerate(pieces)
    )


@dataclass(frozen=True, slots=True)
class BertNormalization:
    """BertNormalizer's four flags, applied in the library's order."""

    clean_text: bool = True
    handle_chinese_chars: bool = True
    strip_accents: bool = True
    lowercase: bool = True

    def __call__(self, text: str) -> str:
        if self.clean_text:
            text = _CLEAN_SPACE.sub(" ", _CLEAN_REMOVED.sub("", text))
        if self.handle_chinese_chars:
            text = _CHINESE.sub(r" \g<0> ", text)
        if self.strip_accents:
            text = _NONSPACING_MARKS.sub("", _nfd(text))
        if self.lowercase:
            # `tokenizers` lowercases character by character: no final sigma, unlike str.lower(); and its
            # Unicode version may know case pairs that this Python's does not.
            if _LOWERCASE_DIFFERENT.search(text):
                text = text.translate(tables.LOWERCASE)
            text = text.replace("Σ", "σ").lower()
        return text

    def ascii_table(self) -> dict[int, str | None]:
        """A str.translate table doing the same to ASCII text (where every step works character by character)."""
        table: dict[int, str | None] = {}
        for cp in range(128):
            out = self(chr(cp))
            if out != chr(cp):
                table[cp] = out or None
        return table


class WordPieceTokenizer:
    """Tokenizes like `tokenizers.Tokenizer` for a BERT WordPiece tokenizer.json; build it with `from_file`."""

    def __init__(
        self,
        vocab: Mapping[str, int],
        *,
        unk_token: str = "[UNK]",
        continuing_subword_prefix: str = "##",
        max_input_chars_per_word: int = 100,
        normalization: BertNormalization | None = None,
        added_tokens: Mapping[str, int] | None = None,
        template: _Template | None = None,
        max_length: int | None = None,
    ) -> None:
        if unk_token not in vocab:
            raise UnsupportedTokenizer(f"the unknown token {unk_token!r} is not in the vocabulary")
        self._vocab = dict(vocab)
        self._unk_id = self._vocab[unk_token]
        self._prefix = continuing_subword_prefix
        self._max_chars = max_input_chars_per_word
        self._normalize: Callable[[str], str] = normalization or (lambda text: text)
        self._ascii = (normalization or BertNormalization(False, False, False, False)).ascii_table()
        self._added = dict(added_tokens or {})
        self._added_re = (
            re.compile("|".join(re.escape(t) for t in sorted(self._added, key=len, reverse=True)))
            if self._added
            else None
        )
        self._template = template or _Template()
        if max_length is not None and max_length <= self._template.n_special:
            raise ValueError(f"max_length {max_length} leaves no room next to the special tokens")
        self.max_length = max_length
        self._budget = None if max_length is None else max_length - self._template.n_special
        self._word_ids: Callable[[str], tuple[int, ...]] = functools.lru_cache(maxsize=WORD_CACHE_SIZE)(
            self._wordpiece
        )

    @classmethod
    def from_file(cls, path: str | Path, max_length: int | None = None) -> WordPieceTokenizer:
        """Read a tokenizer.json; `max_length` (specials included) overrides the file's truncation."""
        return cls.from_config(json.loads(Path(path).read_text(encoding="utf-8")), max_length)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], max_length: int | None = None) -> WordPieceTokenizer:
        model = config.get("model") or {}
        pre_tokenizer = (config.get("pre_tokenizer") or {}).get("type")
        if pre_tokenizer != "BertPreTokenizer":
            raise UnsupportedTokenizer(f"pre-tokenizer {pre_tokenizer!r} is not BertPreTokenizer")
        if model.get("type") != "WordPiece":
            raise UnsupportedTokenizer(f"model type {model.get('type')!r} is not WordPiece")
        vocab = model.get("vocab")
        if not isinstance(vocab, dict):
            raise UnsupportedTokenizer("the WordPiece model has no vocabulary")
        if max_length is None:
            max_length = _truncation_length(config.get("truncation"))
        return cls(
            {str(k): int(v) for k, v in vocab.items()},
            unk_token=str(model.get("unk_token", "[UNK]")),
            continuing_subword_prefix=str(model.get("continuing_subword_prefix", "##")),
            max_input_chars_per_word=int(model.get("max_input_chars_per_word", 100)),
            normalization=_normalization(config.get("normalizer")),
            added_tokens=_added_tokens(config.get("added_tokens") or []),
            template=_template(config.get("post_processor")),
            max_length=max_length,
        )

    @property
    def vocab_size(self) -> int:
        """One more than the largest id this tokenizer can produce."""
        t = self._template
        return 1 + max(*self._vocab.values(), *self._added.values(), *t.prefix_ids, *t.suffix_ids)

    def whole_words(self) -> list[str]:
        """The vocabulary's alphabetic whole words (not "##" pieces), in id order: for BERT's, about the order of
        how common they are."""
        return [w for w, _ in sorted(self._vocab.items(), key=lambda item: item[1]) if w.isalpha()]

    def token_to_id(self, token: str) -> int | None:
        return self._added.get(token, self._vocab.get(token))

    def encode(self, text: str) -> Encoding:
        ids = self.tokenize(text)
        t = self._template
        all_ids = [*t.prefix_ids, *ids, *t.suffix_ids]
        return Encoding(
            ids=all_ids,
            attention_mask=[1] * len(all_ids),
            type_ids=[*t.prefix_types, *([t.sequence_type] * len(ids)), *t.suffix_types],
        )

    def encode_batch(self, texts: Sequence[str]) -> list[Encoding]:
        return [self.encode(text) for text in texts]

    def tokenize(self, text: str) -> list[int]:
        """The sequence's ids, truncated to leave room for the special tokens, without them."""
        budget = self._budget
        ids: list[int] = []
        for segment, added_id in self._split_added(text):
            if added_id is not None:
                ids.append(added_id)
            else:
                normalized = segment.translate(self._ascii) if segment.isascii() else self._normalize(segment)
                max_chars, word_ids, unk = self._max_chars, self._word_ids, self._unk_id
                for word in _WORDS.findall(normalized):
                    ids.extend(word_ids(word) if len(word) <= max_chars else (unk,))
                    if budget is not None and len(ids) >= budget:
                        break
            if budget is not None and len(ids) >= budget:
                return ids[:budget]
        return ids

    def _split_added(self, text: str) -> Iterator[tuple[str, int | None]]:
        """Raw-text pieces, each either plain text (id None) or one added token (its id)."""
        if self._added_re is None or self._added_re.search(text) is None:
            yield text, None
            return
        start = 0
        for match in self._added_re.finditer(text):
            if match.start() > start:
                yield text[start : match.start()], None
            yield match.group(), self._added[match.group()]
            start = match.end()
        if start < len(text):
            yield text[start:], None

    def _wordpiece(self, word: str) -> tuple[int, ...]:
        """Greedy longest-match-first split; the unknown token if any part of the word has no match."""
        vocab = self._vocab
        whole = vocab.get(word)
        if whole is not None:
            return (whole,)
        ids: list[int] = []
        start, n = 0, len(word)
        while start < n:
            end = n
            while end > start:
                piece = word[start:end] if start == 0 else self._prefix + word[start:end]
                token_id = vocab.get(piece)
                if token_id is not None:
                    ids.append(token_id)
                    break
                end -= 1
            else:
                return (self._unk_id,)
            start = end
        return tuple(ids)


def _normalization(spec: Mapping[str, Any] | None) -> BertNormalization | None:
    if spec is None:
        return None
    if spec.get("type") != "BertNormalizer":
        raise UnsupportedTokenizer(f"normalizer {spec.get('type')!r} is not BertNormalizer")
    lowercase = bool(spec.get("lowercase", True))
    strip = spec.get("strip_accents")
    return BertNormalization(
        clean_text=bool(spec.get("clean_text", True)),
        handle_chinese_chars=bool(spec.get("handle_chinese_chars", True)),
        strip_accents=lowercase if strip is None else bool(strip),
        lowercase=lowercase,
    )


def _added_tokens(specs: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    tokens: dict[str, int] = {}
    for spec in specs:
        content = str(spec["content"])
        if spec.get("normalized") or spec.get("single_word") or spec.get("lstrip") or spec.get("rstrip"):
            raise UnsupportedTokenizer(
                f"added token {content!r}: only tokens matched as-is in the raw text are supported "
                "(normalized, single_word, lstrip and rstrip all false)"
            )
        if content:
            tokens[content] = int(spec["id"])
    return tokens


def _template(spec: Mapping[str, Any] | None) -> _Template:
    if spec is None:
        return _Template()
    kind = spec.get("type")
    if kind == "BertProcessing":
        (_, cls_id), (_, sep_id) = spec["cls"], spec["sep"]
        return _Template((int(cls_id),), (0,), 0, (int(sep_id),), (0,))
    if kind != "TemplateProcessing":
        raise UnsupportedTokenizer(f"post-processor {kind!r} is not TemplateProcessing or BertProcessing")
    specials = spec.get("special_tokens") or {}
    before: list[tuple[int, int]] = []
    after: list[tuple[int, int]] = []
    sequence_type: int | None = None
    for piece in spec["single"]:
        if "Sequence" in piece:
            if piece["Sequence"].get("id") != "A" or sequence_type is not None:
                raise UnsupportedTokenizer("the single-sequence template must hold sequence A exactly once")
            sequence_type = int(piece["Sequence"].get("type_id", 0))
        elif "SpecialToken" in piece:
            name, type_id = piece["SpecialToken"]["id"], int(piece["SpecialToken"].get("type_id", 0))
            if name not in specials:
                raise UnsupportedTokenizer(f"template special token {name!r} is not defined")
            side = before if sequence_type is None else after
            side.extend((int(i), type_id) for i in specials[name]["ids"])
        else:
            raise UnsupportedTokenizer(f"unknown template piece {piece!r}")
    if sequence_type is None:
        raise UnsupportedTokenizer("the single-sequence template has no sequence")
    return _Template(
        tuple(i for i, _ in before), tuple(t for _, t in before), sequence_type,
        tuple(i for i, _ in after), tuple(t for _, t in after),
    )


def _truncation_length(spec: Mapping[str, Any] | None) -> int | None:
    if spec is None:
        return None
    if spec.get("direction", "Right") != "Right" or int(spec.get("stride", 0)) != 0:
        raise UnsupportedTokenizer(f"truncation {dict(spec)!r}: only right truncation without stride")
    return int(spec["max_length"])
