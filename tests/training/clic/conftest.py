"""A CLIC training table (the demo's three-sentence captions), its eval sets and a tiny exported base model."""

from __future__ import annotations

import pytest
import torch

from training.clic.demo import write_eval_sets, write_train_table
from training.model import create_model, export_model
from training.tokenizer import train_tokenizer


@pytest.fixture(scope="session")
def clic_setup(tmp_path_factory):
    """``root/data/train`` (120 rows, 7 languages), ``root/data/eval`` (6 items), ``root/base`` (wwclip-tiny)."""
    root = tmp_path_factory.mktemp("clic")
    write_train_table(str(root / "data"), 120, seed=0)
    write_eval_sets(str(root / "data"), 6, seed=0)
    import pyarrow.parquet as pq

    texts = pq.read_table(str(root / "data" / "train")).column("text").to_pylist()
    tok = train_tokenizer(texts, vocab_size=300, context_length=32)
    torch.manual_seed(0)
    model, cfg = create_model("wwclip-tiny", tok)
    export_model(model, cfg, tok, str(root / "base"))
    return root
