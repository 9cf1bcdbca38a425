"""Pretrained open_clip checkpoints from local files: weights, the matching config, its tokenizer.

``load_pretrained(path, model=..., tokenizer=...)`` returns ``(model, model_cfg, tokenizer)`` ready
to fine-tune (``training.launch --pretrained``) or evaluate (``training.evaluate --pretrained``).
Nothing is downloaded: the user fetches the checkpoint and its tokenizer once (e.g. a MetaCLIP 2
worldwide release and ``facebook/xlm-v-base``) and passes local paths.

``path`` is one of
- a weights file: ``.safetensors``, or a ``torch.save`` file (``.bin``/``.pt``/``.pth``) holding a
  state dict, open_clip's training checkpoint ``{"state_dict": ..., "epoch": ...}``, or this
  package's ``checkpoints/step_N.pt`` (``{"model": ..., "model_cfg": ...}``). Keys may carry the
  ``module.`` (DDP) or ``_orig_mod.`` (``torch.compile``) prefixes; they are stripped;
- a folder in open_clip's local-dir / Hugging Face hub layout: ``open_clip_config.json`` plus
  ``open_clip_model.safetensors`` or ``open_clip_pytorch_model.bin`` (and tokenizer files, if any).

The config is ``model`` (an open_clip name such as ``ViT-H-14-worldwide-quickgelu``, a small config
name, or a config JSON), else the ``open_clip_config.json`` beside the weights, else the
``model_cfg`` stored in the checkpoint. It is *checked* against the weights, never resized to them:
the token-embedding rows must equal ``vocab_size`` and the text positions ``context_length``; the
tokenizer must fit in the embedding table and end texts with the id the text tower pools at
(``eos_id`` for ``pool_type="eos"``, the largest id for ``argmax``). Any other mismatch (missing,
unexpected or differently shaped tensors) is one error listing them. The only adaptation is
open_clip's own: the image position grid is interpolated when the image size differs (the ``-378``
fine-tunes), as ``open_clip.load_checkpoint`` does.

The tokenizer is read with ``training.tokenizer.load_tokenizer`` (``tokenizer.json`` via
``tokenizers``, or a SentencePiece model via ``transformers``) with the checkpoint's cleaning mode:
``text_cfg.tokenizer_kwargs.clean`` when the config sets it, else open_clip's default for the
tokenizer kind (``whitespace`` for Hugging Face tokenizers, ``lower`` for CLIP's BPE), unless the
tokenizer folder was saved by this package (its own saved mode wins).
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from typing import Any

import torch

from training.model import OPEN_CLIP_CONFIG, WEIGHTS, build_model, resolve_model_config
from training.tokenizer import SIDECAR, Tokenizer, load_tokenizer

WEIGHT_FILES = (WEIGHTS, "open_clip_pytorch_model.bin", "open_clip_model.bin")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model", "spiece.model",
                   "tokenizer.model", "sentencepiece.model")
STRIPPED_PREFIXES = ("module.", "_orig_mod.")
# open_clip's CLIPTextCfg defaults, for configs that leave these keys out
TEXT_DEFAULTS = {"vocab_size": 49408, "context_length": 77, "pool_type": "argmax", "eos_id": 2, "pad_id": 0}


def strip_prefixes(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keys without leading ``module.`` / ``_orig_mod.`` (any order, any number of times)."""
    out = {}
    for key, value in state.items():
        changed = True
        while changed:
            changed = False
            for prefix in STRIPPED_PREFIXES:
                if key.startswith(prefix):
                    key, changed = key[len(prefix):], True
        if key in out:
            raise ValueError(f"checkpoint has {key!r} twice once prefixes are stripped")
        out[key] = value
    return out


def read_checkpoint(path: str) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None]:
    """``(state_dict, embedded model config or None)`` from a weights file; tensors on CPU.

    ``torch.load`` runs with ``weights_only=True``: a checkpoint that needs arbitrary unpickling is
    refused rather than executed.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path} not found")
    embedded = None
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        obj: object = load_file(path, device="cpu")
    else:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - pickle errors come in many types
            raise ValueError(f"{path}: not a loadable weights file with torch.load(weights_only=True) "
                             f"({type(exc).__name__}: {exc}); re-save it as a plain state dict or .safetensors"
                             ) from None
    if isinstance(obj, dict):
        if isinstance(obj.get("model_cfg"), dict):
            embedded = obj["model_cfg"]
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{path}: expected a state dict of tensors (plain, or under 'state_dict' / 'model')")
    return strip_prefixes(obj), embedded  # type: ignore[arg-type]


def _text_key(state: dict[str, torch.Tensor], name: str) -> str | None:
    for key in (name, f"text.{name}"):
        if key in state:
            return key
    return None


def clean_mode_for(text_cfg: dict[str, Any]) -> str:
    """open_clip's text cleaning for this config: explicit ``tokenizer_kwargs.clean``, else its default."""
    explicit = (text_cfg.get("tokenizer_kwargs") or {}).get("clean")
    if explicit:
        return explicit
    return "whitespace" if text_cfg.get("hf_tokenizer_name") else "lower"


def pretrained_config(cfg: dict[str, Any], state: dict[str, torch.Tensor], tokenizer: Tokenizer) -> dict[str, Any]:
    """The config to build for ``state``, with the tokenizer checked against it (see the module doc)."""
    cfg = copy.deepcopy(cfg)
    text = cfg.setdefault("text_cfg", {})
    if text.get("hf_model_name"):
        raise ValueError("configs with a Hugging Face text tower (hf_model_name) are not supported: their "
                         "architecture comes from the Hugging Face hub; use an open_clip text transformer config")
    for key in ("hf_tokenizer_name", "tokenizer_mode", "tokenizer_kwargs"):
        text.pop(key, None)
    emb_key, pos_key = _text_key(state, "token_embedding.weight"), _text_key(state, "positional_embedding")
    if emb_key is None or pos_key is None:
        raise ValueError("the checkpoint has no text transformer (token_embedding / positional_embedding); "
                         "is it an open_clip CLIP checkpoint?")
    rows, positions = state[emb_key].shape[0], state[pos_key].shape[0]
    vocab = int(text.get("vocab_size", TEXT_DEFAULTS["vocab_size"]))
    context = int(text.get("context_length", TEXT_DEFAULTS["context_length"]))
    if rows != vocab:
        raise ValueError(f"the checkpoint has {rows} token embeddings but the config's vocab_size is {vocab}: "
                         "wrong --model for these weights")
    if positions != context:
        raise ValueError(f"the checkpoint has {positions} text positions but the config's context_length is "
                         f"{context}: wrong --model for these weights")
    if tokenizer.vocab_size > rows:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens but the checkpoint embeds only {rows}: "
                         "not the tokenizer these weights were trained with")
    if tokenizer.context_length != context:
        raise ValueError(f"tokenizer context_length {tokenizer.context_length} != the checkpoint's {context}")
    pool = text.get("pool_type", TEXT_DEFAULTS["pool_type"])
    if pool == "eos" and tokenizer.eos_id != int(text.get("eos_id", TEXT_DEFAULTS["eos_id"])):
        raise ValueError(f"the text tower pools at eos_id {text.get('eos_id', TEXT_DEFAULTS['eos_id'])} but the "
                         f"tokenizer ends texts with {tokenizer.eos_id}: not the tokenizer of this checkpoint")
    if pool == "argmax" and tokenizer.eos_id != tokenizer.vocab_size - 1:
        raise ValueError("pool_type 'argmax' pools at the largest token id, but the tokenizer's end-of-text id "
                         f"{tokenizer.eos_id} is not its largest ({tokenizer.vocab_size - 1})")
    if text.get("no_causal_mask") and text.get("use_pad_mask") and \
            tokenizer.pad_id != int(text.get("pad_id", TEXT_DEFAULTS["pad_id"])):
        raise ValueError(f"the text tower masks pad_id {text.get('pad_id', 0)} but the tokenizer pads with "
                         f"{tokenizer.pad_id}")
    return cfg


def _adapt(state: dict[str, torch.Tensor], model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """open_clip's loader adaptations: scalar/1-d logit scale, stale position ids, image position grid."""
    from open_clip.model import resize_pos_embed

    state = dict(state)
    for name in ("logit_scale", "logit_bias"):
        mine = getattr(model, name, None)
        if name in state and isinstance(mine, torch.Tensor) and state[name].ndim != mine.ndim:
            state[name] = state[name].reshape(mine.shape)
    state.pop("text.transformer.embeddings.position_ids", None)
    resize_pos_embed(state, model)
    return state


def load_weights(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Strict load; one error listing every missing, unexpected and differently shaped tensor."""
    state = _adapt(state, model)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)} vs config {tuple(expected[k].shape)}"
              for k in sorted(set(state) & set(expected)) if state[k].shape != expected[k].shape]
    if missing or unexpected or shapes:
        parts = [f"{len(missing)} missing (e.g. {missing[:3]})" if missing else "",
                 f"{len(unexpected)} unexpected (e.g. {unexpected[:3]})" if unexpected else "",
                 f"{len(shapes)} with another shape (e.g. {shapes[:3]})" if shapes else ""]
        raise ValueError("the checkpoint does not match the config: " + "; ".join(p for p in parts if p))
    model.load_state_dict(state, strict=True)


@dataclass(frozen=True)
class PretrainedSource:
    """Where the weights, the config and the tokenizer of a pretrained model come from."""

    weights: str
    model_cfg: dict[str, Any]
    tokenizer_dir: str
    config_origin: str


def _has_tokenizer(directory: str) -> bool:
    return any(os.path.exists(os.path.join(directory, n)) for n in TOKENIZER_FILES)


def _config_file(directory: str) -> dict[str, Any] | None:
    path = os.path.join(directory, OPEN_CLIP_CONFIG)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    return cfg.get("model_cfg", cfg)


def resolve_pretrained(path: str, model: str | None = None, tokenizer: str | None = None
                       ) -> tuple[PretrainedSource, dict[str, torch.Tensor]]:
    """Find the weights, config and tokenizer for ``path`` (file or folder); read the weights."""
    if os.path.isdir(path):
        weights = next((os.path.join(path, n) for n in WEIGHT_FILES if os.path.isfile(os.path.join(path, n))), None)
        if weights is None:
            raise ValueError(f"{path} has none of {WEIGHT_FILES}; pass the weights file itself")
        folder = path
    elif os.path.isfile(path):
        weights, folder = path, os.path.dirname(os.path.abspath(path))
    else:
        raise FileNotFoundError(f"pretrained checkpoint {path} not found")
    state, embedded = read_checkpoint(weights)
    if model:
        cfg, origin = resolve_model_config(model), model
    elif (beside := _config_file(folder)) is not None:
        cfg, origin = beside, os.path.join(folder, OPEN_CLIP_CONFIG)
    elif embedded is not None:
        cfg, origin = copy.deepcopy(embedded), f"{weights} (model_cfg)"
    else:
        raise ValueError(f"no config for {weights}: pass --model (an open_clip name such as "
                         "ViT-H-14-worldwide-quickgelu, or a config JSON)")
    tok_dir = tokenizer or (folder if _has_tokenizer(folder) else None)
    if tok_dir is None:
        hint = cfg.get("text_cfg", {}).get("hf_tokenizer_name")
        raise ValueError(f"no tokenizer for {weights}: pass --tokenizer DIR, a local copy of the tokenizer these "
                         f"weights were trained with" + (f" ({hint!r} on the Hugging Face hub)" if hint else ""))
    return PretrainedSource(weights, cfg, tok_dir, origin), state


def load_pretrained(path: str, *, model: str | None = None, tokenizer: str | None = None,
                    device: str | torch.device = "cpu", grad_checkpointing: bool = False, weights: bool = True):
    """``(model, model_cfg, tokenizer)`` for a local pretrained checkpoint (see the module doc).

    ``weights=False`` builds and checks the model without copying the weights in (a resumed run
    overwrites them from its own checkpoint anyway).
    """
    source, state = resolve_pretrained(path, model, tokenizer)
    text = source.model_cfg.get("text_cfg", {})
    saved = os.path.isdir(source.tokenizer_dir) and os.path.exists(os.path.join(source.tokenizer_dir, SIDECAR))
    tok = load_tokenizer(source.tokenizer_dir, int(text.get("context_length", TEXT_DEFAULTS["context_length"])),
                         clean=None if saved else clean_mode_for(text))
    cfg = pretrained_config(source.model_cfg, state, tok)
    net = build_model(cfg, device="cpu")
    if weights:
        load_weights(net, state)
    del state
    if grad_checkpointing:
        net.set_grad_checkpointing(True)
    return net.to(device), cfg, tok
