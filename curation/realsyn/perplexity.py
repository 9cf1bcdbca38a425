"""Pluggable perplexity scorers for the 30 <= PPL <= 200 band (``rules.perplexity_ok``).

The paper scores sentences with GPT-2-large: PPL = exp(−(1/t) Σ_i ln p(x_i | x_<i)). Two
scorers, both from *local* files (no hub download at run time):

- ``TransformersScorer``: any causal LM directory ``transformers`` can load with
  ``local_files_only=True`` (GPT-2, a multilingual LM, ...). Every token of the sentence is
  predicted: the tokenizer's BOS (or EOS, as GPT-2 uses) is prepended when it has one. Each
  sentence is run in a micro-batch of fixed shape (``batch_size`` rows, padded to the next
  multiple of ``length_bucket`` tokens, truncated at ``max_tokens``) so its score does not
  depend on which other sentences Spark put in the same Arrow batch.
- ``KenLMScorer``: a KenLM ``.arpa``/``.bin`` model (``pip install kenlm``); KenLM's own
  sentence perplexity (base 10, end-of-sentence token included).

``load_scorer(spec)`` picks one: ``kenlm:PATH``, ``hf:PATH``, or a bare path (a file ->
KenLM, a directory -> transformers). No spec -> no scorer: the pipeline then *skips* the
perplexity step and says so in ``_stats.json``; it never invents scores.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np


class PerplexityScorer(Protocol):
    name: str

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """float64[N] perplexities (NaN where a text has no token to score)."""


class KenLMScorer:
    def __init__(self, path: str):
        try:
            import kenlm
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError("a KenLM perplexity model needs the 'kenlm' package (pip install kenlm)") from exc
        if not os.path.isfile(path):
            raise FileNotFoundError(f"KenLM model not found: {path}")
        self.model = kenlm.Model(path)
        self.name = f"kenlm:{os.path.basename(path)}"

    def score(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self.model.perplexity(t) if t.strip() else math.nan for t in texts], dtype=np.float64)


class TransformersScorer:
    def __init__(self, path: str, device: str = "cpu", batch_size: int = 8, max_tokens: int = 256,
                 length_bucket: int = 16):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not os.path.isdir(path):
            raise FileNotFoundError(f"causal LM directory not found: {path} (a local path is required)")
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True).to(device).eval()
        self.device, self.batch_size, self.max_tokens, self.bucket = device, batch_size, max_tokens, length_bucket
        self.start = self.tokenizer.bos_token_id if self.tokenizer.bos_token_id is not None \
            else self.tokenizer.eos_token_id
        self.pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self.name = f"transformers:{os.path.basename(os.path.normpath(path))}"
        self._torch = torch

    def _ids(self, text: str) -> list[int]:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if self.start is not None:
            ids = [self.start] + ids
        return ids[: self.max_tokens]

    def score(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        out = np.full(len(texts), math.nan, dtype=np.float64)
        seqs = [self._ids(t) for t in texts]
        buckets: dict[int, list[int]] = {}
        for i, ids in enumerate(seqs):
            if len(ids) >= 2:
                buckets.setdefault(-(-len(ids) // self.bucket) * self.bucket, []).append(i)
        for length, rows in sorted(buckets.items()):
            for start in range(0, len(rows), self.batch_size):
                chunk = rows[start:start + self.batch_size]
                ids = np.full((self.batch_size, length), self.pad, dtype=np.int64)
                mask = np.zeros((self.batch_size, length), dtype=np.int64)
                for r, i in enumerate(chunk):
                    ids[r, :len(seqs[i])] = seqs[i]
                    mask[r, :len(seqs[i])] = 1
                with torch.no_grad():
                    logits = self.model(input_ids=torch.from_numpy(ids).to(self.device),
                                        attention_mask=torch.from_numpy(mask).to(self.device)).logits.float()
                logp = torch.log_softmax(logits[:, :-1], dim=-1)
                target = torch.from_numpy(ids[:, 1:]).to(self.device)
                token_logp = logp.gather(-1, target.unsqueeze(-1)).squeeze(-1).double().cpu().numpy()
                valid = mask[:, 1:].astype(bool)
                for r, i in enumerate(chunk):
                    out[i] = math.exp(-token_logp[r][valid[r]].mean())
        return out


def load_scorer(spec: str | None, device: str = "cpu") -> PerplexityScorer | None:
    """A scorer from ``kenlm:PATH`` / ``hf:PATH`` / a bare path; ``None`` for no spec."""
    if not spec:
        return None
    if spec.startswith("kenlm:"):
        return KenLMScorer(spec[len("kenlm:"):])
    if spec.startswith("hf:"):
        return TransformersScorer(spec[len("hf:"):], device=device)
    if os.path.isdir(spec):
        return TransformersScorer(spec, device=device)
    if os.path.isfile(spec):
        return KenLMScorer(spec)
    raise FileNotFoundError(f"perplexity model {spec!r} is neither a local directory (transformers) nor a "
                            "file (KenLM); hub names are not fetched at run time")


_CACHE: dict[tuple, PerplexityScorer] = {}


def get_scorer(spec: str, device: str = "cpu") -> PerplexityScorer:
    """The process-wide scorer for ``spec`` (one load per Spark worker process)."""
    key = (spec, device, os.getpid())
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = load_scorer(spec, device)
    return _CACHE[key]
