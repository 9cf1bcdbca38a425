"""A deterministic stand-in for a CLIP text tower, and a tiny WN-LMF WordNet in the real format."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

DIM = 48


def token_vector(token: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")
    return np.random.default_rng(seed).normal(size=DIM)


class FakeEmbedder:
    """Bag of words (a fixed random vector per token, summed, normalised); ``fixed`` pins whole texts."""

    def __init__(self, fixed: dict[str, np.ndarray] | None = None, salt: str = ""):
        self.fixed = dict(fixed or {})
        self.salt = salt  # a different salt is a different "model"
        self.calls: list[list[str]] = []

    def __call__(self, texts):
        texts = list(texts)
        self.calls.append(texts)
        rows = []
        for t in texts:
            if t in self.fixed:
                v = np.asarray(self.fixed[t], np.float64)
            else:
                v = np.sum([token_vector(self.salt + w) for w in re.findall(r"\w+", t.lower())], axis=0)
            rows.append(v / np.linalg.norm(v))
        return np.asarray(rows, np.float32)


def unit(i: int, j: int | None = None, w: float = 0.0) -> np.ndarray:
    v = np.zeros(DIM)
    v[i] = 1.0
    if j is not None:
        v[j] = w
    return v / np.linalg.norm(v)


WN_LMF = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE LexicalResource SYSTEM "http://globalwordnet.github.io/schemas/WN-LMF-1.1.dtd">
<LexicalResource xmlns:dc="https://globalwordnet.github.io/schemas/dc/">
  <Lexicon id="t-en" label="Test English" language="en" email="a@example.org"
           license="https://creativecommons.org/licenses/by/4.0/" version="1.0">
    <LexicalEntry id="t-en-crane"><Lemma writtenForm="crane" partOfSpeech="n"/>
      <Sense id="t-en-crane-1" synset="t-en-1-n"/><Sense id="t-en-crane-2" synset="t-en-2-n"/></LexicalEntry>
    <LexicalEntry id="t-en-derrick"><Lemma writtenForm="derrick" partOfSpeech="n"/>
      <Sense id="t-en-derrick-1" synset="t-en-1-n"/></LexicalEntry>
    <LexicalEntry id="t-en-grus"><Lemma writtenForm="Grus" partOfSpeech="n"/>
      <Sense id="t-en-grus-2" synset="t-en-2-n"/></LexicalEntry>
    <LexicalEntry id="t-en-wading"><Lemma writtenForm="wading_bird" partOfSpeech="n"/>
      <Sense id="t-en-wading-2" synset="t-en-2-n"/></LexicalEntry>
    <LexicalEntry id="t-en-hotdog"><Lemma writtenForm="hot dog" partOfSpeech="n"/>
      <Sense id="t-en-hotdog-3" synset="t-en-3-n"/></LexicalEntry>
    <LexicalEntry id="t-en-frank"><Lemma writtenForm="frankfurter" partOfSpeech="n"/>
      <Sense id="t-en-frank-3" synset="t-en-3-n"/></LexicalEntry>
    <LexicalEntry id="t-en-crane-v"><Lemma writtenForm="crane" partOfSpeech="v"/>
      <Sense id="t-en-crane-v-4" synset="t-en-4-v"/></LexicalEntry>
    <LexicalEntry id="t-en-stretch"><Lemma writtenForm="stretch" partOfSpeech="v"/>
      <Sense id="t-en-stretch-4" synset="t-en-4-v"/></LexicalEntry>
    <Synset id="t-en-1-n" ili="i1" partOfSpeech="n"><Definition>lifts and moves heavy objects</Definition></Synset>
    <Synset id="t-en-2-n" ili="i2" partOfSpeech="n"><Definition>large long-necked wading bird</Definition></Synset>
    <Synset id="t-en-3-n" ili="i3" partOfSpeech="n"/>
    <Synset id="t-en-4-v" ili="i4" partOfSpeech="v"><Definition>stretch the neck</Definition></Synset>
  </Lexicon>
  <Lexicon id="t-fr" label="Test French" language="fr" email="a@example.org"
           license="https://creativecommons.org/licenses/by/4.0/" version="1.0">
    <LexicalEntry id="t-fr-grue"><Lemma writtenForm="grue" partOfSpeech="n"/>
      <Sense id="t-fr-grue-1" synset="t-fr-1-n"/><Sense id="t-fr-grue-2" synset="t-fr-2-n"/></LexicalEntry>
    <LexicalEntry id="t-fr-engin"><Lemma writtenForm="engin_de_levage" partOfSpeech="n"/>
      <Sense id="t-fr-engin-1" synset="t-fr-1-n"/></LexicalEntry>
    <LexicalEntry id="t-fr-cendree"><Lemma writtenForm="grue_cendrée" partOfSpeech="n"/>
      <Sense id="t-fr-cendree-2" synset="t-fr-2-n"/></LexicalEntry>
    <Synset id="t-fr-1-n" ili="i1" partOfSpeech="n"/>
    <Synset id="t-fr-2-n" ili="i2" partOfSpeech="n"/>
  </Lexicon>
</LexicalResource>
"""


@pytest.fixture
def wn_lmf(tmp_path) -> str:
    path = tmp_path / "test-wn.xml"
    path.write_text(WN_LMF, encoding="utf-8")
    return str(path)
