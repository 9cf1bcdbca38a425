"""Multilingual tokenizer: any Hugging Face tokenizer from a local path, or one trained on the data.

MetaCLIP 2 uses XLM-V (vocab 901,629, context 77). When the user has it (or any other HF
tokenizer) locally, ``load_tokenizer(path)`` reads its ``tokenizer.json`` with the ``tokenizers``
library — no ``transformers`` needed; directories holding only a SentencePiece model fall back to
``transformers.AutoTokenizer`` when that is installed. Offline, ``train_tokenizer`` fits a
SentencePiece-style Unigram model on the curated texts themselves and saves it in the same HF
layout beside the checkpoint, so evaluation and later runs load it like any other.

Every text becomes ``[bos] pieces… [eos] [pad]…`` of exactly ``context_length`` ids; truncation
keeps the ``eos`` (the text tower pools at the first ``eos``, open_clip ``pool_type='eos'``).
For a Hugging Face tokenizer these are the ids open_clip's ``HFTokenizer`` produces (``padding=
"max_length"``, ``truncation=True``), so a pretrained open_clip checkpoint sees the inputs it was
trained with.

Text cleaning before tokenization (``clean``): ``collapse`` (whitespace runs → one space; the
default for tokenizers trained here) or one of open_clip's modes for pretrained checkpoints —
``whitespace`` (ftfy + HTML unescape + collapse; open_clip's default for HF tokenizers, e.g. the
XLM-V worldwide models), ``lower``, ``canonicalize`` (also lower-case and strip punctuation; the
mT5 worldwide configs). The mode is saved beside the tokenizer (``wwclip_tokenizer.json``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

SPECIAL_TOKENS = {"pad": "<pad>", "bos": "<s>", "eos": "</s>", "unk": "<unk>"}
_FALLBACK_NAMES = {
    "eos": ("</s>", "[SEP]", "<|endoftext|>", "<eos>"),
    "bos": ("<s>", "[CLS]", "<|startoftext|>", "<bos>"),
    "pad": ("<pad>", "[PAD]"),
}
_WS = re.compile(r"\s+")
CLEAN_MODES = ("collapse", "whitespace", "lower", "canonicalize")
SIDECAR = "wwclip_tokenizer.json"


def clean_text(text: str) -> str:
    """Collapse whitespace (captions from the web carry tabs and newlines); keep case and script."""
    return _WS.sub(" ", text or "").strip()


def clean_function(mode: str):
    """The text cleaner for ``mode``: ours (``collapse``) or open_clip's own function of that name."""
    if mode not in CLEAN_MODES:
        raise ValueError(f"clean must be one of {CLEAN_MODES}, got {mode!r}")
    if mode == "collapse":
        return clean_text
    from open_clip.tokenizer import get_clean_fn

    fn = get_clean_fn(mode)
    return lambda text: fn(text or "")


@dataclass
class _Specials:
    bos: int | None
    eos: int
    pad: int


class Tokenizer:
    """Callable ``list[str] -> LongTensor[B, context_length]`` around a ``tokenizers.Tokenizer``."""

    def __init__(self, backend, context_length: int, specials: _Specials, source: str, clean: str = "collapse"):
        if context_length < 3:
            raise ValueError("context_length must be >= 3")
        self.backend = backend
        self.context_length = context_length
        self.bos_id, self.eos_id, self.pad_id = specials.bos, specials.eos, specials.pad
        self.source = source
        self.clean = clean
        self._clean = clean_function(clean)

    @property
    def vocab_size(self) -> int:
        if hasattr(self.backend, "get_vocab_size"):
            return int(self.backend.get_vocab_size(with_added_tokens=True))
        return len(self.backend)  # transformers tokenizer

    def _ids(self, texts: Sequence[str]) -> list[list[int]]:
        texts = [self._clean(t) for t in texts]
        if hasattr(self.backend, "encode_batch"):
            return [e.ids for e in self.backend.encode_batch(texts, add_special_tokens=False)]
        return self.backend(texts, add_special_tokens=False)["input_ids"]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``int64 [len(texts), context_length]``: bos, pieces (truncated), eos, padding."""
        out = np.full((len(texts), self.context_length), self.pad_id, dtype=np.int64)
        head = [self.bos_id] if self.bos_id is not None else []
        room = self.context_length - len(head) - 1
        for i, ids in enumerate(self._ids(texts)):
            row = head + list(ids[:room]) + [self.eos_id]
            out[i, :len(row)] = row
        return out

    def __call__(self, texts: str | Sequence[str]):
        import torch

        if isinstance(texts, str):
            texts = [texts]
        return torch.from_numpy(self.encode(texts))

    def save(self, directory: str) -> str:
        """Write ``tokenizer.json`` + HF ``tokenizer_config.json`` (+ the cleaning mode); returns the directory."""
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, SIDECAR), "w", encoding="utf-8") as f:
            json.dump({"clean": self.clean}, f)
        if not hasattr(self.backend, "save"):
            self.backend.save_pretrained(directory)
        else:
            self.backend.save(os.path.join(directory, "tokenizer.json"))
            names = {k: self.backend.id_to_token(v) for k, v in
                     (("bos_token", self.bos_id), ("eos_token", self.eos_id), ("pad_token", self.pad_id)) if v is not None}
            unk = self.backend.token_to_id(SPECIAL_TOKENS["unk"])
            if unk is not None:
                names["unk_token"] = SPECIAL_TOKENS["unk"]
            config = {**names, "model_max_length": self.context_length,
                      "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False}
            with open(os.path.join(directory, "tokenizer_config.json"), "w", encoding="utf-8") as f:
                json.dump(config, f, indent=1)
            with open(os.path.join(directory, "special_tokens_map.json"), "w", encoding="utf-8") as f:
                json.dump(names, f, indent=1)
        return directory


def _token_name(value: object) -> str | None:
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


def _specials(token_to_id, config: dict) -> _Specials:
    found: dict[str, int | None] = {}
    for kind in ("bos", "eos", "pad"):
        name = _token_name(config.get(f"{kind}_token"))
        tid = token_to_id(name) if name else None
        for fallback in _FALLBACK_NAMES[kind]:
            if tid is not None:
                break
            tid = token_to_id(fallback)
        found[kind] = tid
    if found["eos"] is None:
        raise ValueError("tokenizer has no end-of-text token (eos/sep); the text tower pools at it")
    pad = found["pad"] if found["pad"] is not None else found["eos"]
    return _Specials(found["bos"], found["eos"], pad)


def _read_config(directory: str) -> dict:
    config: dict = {}
    for name in ("special_tokens_map.json", "tokenizer_config.json"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                config.update(json.load(f))
    return config


def _saved_clean(directory: str) -> str:
    path = os.path.join(directory, SIDECAR)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("clean", "collapse")
    return "collapse"


def _file_backend(file: str):
    """A ``tokenizers.Tokenizer`` from ``tokenizer.json`` with its own padding/truncation switched off.

    Some published ``tokenizer.json`` files carry padding or truncation settings; left on, they would
    put pad ids before our ``eos`` or cut texts before we place it.
    """
    from tokenizers import Tokenizer as Backend

    backend = Backend.from_file(file)
    backend.no_padding()
    backend.no_truncation()
    return backend


def load_tokenizer(path: str, context_length: int = 77, clean: str | None = None) -> Tokenizer:
    """A HF tokenizer from a local directory or ``tokenizer.json`` (or a hub name, which downloads).

    A directory with ``tokenizer.json`` is read with ``tokenizers`` alone; one with only a
    SentencePiece model (``sentencepiece.bpe.model``, ``spiece.model`` …, as XLM-R/XLM-V and mT5
    publish them) goes through ``transformers.AutoTokenizer`` (needs ``transformers`` and
    ``sentencepiece``: ``pip install worldwide-clip[pretrained]``). ``clean``: the cleaning mode
    (default: the one saved with the tokenizer, else ``collapse``).
    """
    from tokenizers import Tokenizer as Backend

    if os.path.isdir(path):
        clean = clean or _saved_clean(path)
        file = os.path.join(path, "tokenizer.json")
        config = _read_config(path)
        if os.path.exists(file):
            backend = _file_backend(file)
            return Tokenizer(backend, context_length, _specials(backend.token_to_id, config), path, clean)
        try:
            from transformers import AutoTokenizer
        except ImportError as exc:
            raise ValueError(f"{path} has no tokenizer.json; install 'transformers' and 'sentencepiece' "
                             "(pip install worldwide-clip[pretrained]) to load a SentencePiece-only tokenizer, "
                             "or convert it to tokenizer.json") from exc
        try:
            hf = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError, ImportError) as exc:
            raise ValueError(f"{path}: no tokenizer.json and transformers could not load it ({exc})") from exc
        vocab = hf.get_vocab()  # convert_tokens_to_ids answers unk for absent tokens; absent must read as None
        return Tokenizer(hf, context_length, _specials(vocab.get, {
            "bos_token": hf.bos_token or hf.cls_token, "eos_token": hf.eos_token or hf.sep_token,
            "pad_token": hf.pad_token}), path, clean)
    if os.path.isfile(path):
        backend = _file_backend(path)
        return Tokenizer(backend, context_length, _specials(backend.token_to_id, _read_config(os.path.dirname(path))),
                         path, clean or _saved_clean(os.path.dirname(path)))
    backend = Backend.from_pretrained(path)  # hub name: a network fetch, on the user's request
    return Tokenizer(backend, context_length, _specials(backend.token_to_id, {}), path, clean or "collapse")


def train_tokenizer(texts: Iterable[str], vocab_size: int = 32_000, context_length: int = 77) -> Tokenizer:
    """Fit a multilingual Unigram (SentencePiece-style) tokenizer on ``texts`` (e.g. the curated captions).

    NFKC normalisation and a metaspace pre-tokenizer work for spaced and unspaced scripts alike;
    the vocabulary may come out smaller than ``vocab_size`` on a small corpus.
    """
    from tokenizers import Tokenizer as Backend
    from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

    backend = Backend(models.Unigram())
    backend.normalizer = normalizers.NFKC()
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    specials = [SPECIAL_TOKENS[k] for k in ("pad", "bos", "eos", "unk")]
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token=SPECIAL_TOKENS["unk"],
                                      show_progress=False)
    backend.train_from_iterator((clean_text(t) for t in texts), trainer=trainer)
    ids = {k: backend.token_to_id(v) for k, v in SPECIAL_TOKENS.items()}
    return Tokenizer(backend, context_length, _Specials(ids["bos"], ids["eos"], ids["pad"]), "trained")
