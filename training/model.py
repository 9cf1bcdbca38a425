"""Model factory: open_clip architectures by name or config, text tower sized from the tokenizer.

Any open_clip config works (``ViT-B-32``, ``ViT-H-14-worldwide`` …) plus the small configs below
for CPU tests and the demo; a JSON file (a bare model config or open_clip's
``open_clip_config.json``) works too. The text tower is always open_clip's own transformer,
with ``vocab_size``, ``context_length``, ``pad_id`` and ``eos_id`` taken from the tokenizer and
``pool_type='eos'`` (as the worldwide configs do for XLM-V). Weights are initialised randomly:
nothing is downloaded.

The trained model is exported in open_clip's local-dir layout (``open_clip_config.json`` +
``open_clip_model.safetensors``) next to its tokenizer, so ``open_clip.create_model("local-dir:…")``
loads it as well.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import torch

from training.tokenizer import Tokenizer

# Small architectures in open_clip's config format (embed_dim, vision_cfg, text_cfg).
SMALL_CONFIGS: dict[str, dict[str, Any]] = {
    # Seconds per step on a laptop CPU: for tests and torchrun smoke runs.
    "wwclip-tiny": {
        "embed_dim": 64,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "head_width": 32, "patch_size": 8,
                       "mlp_ratio": 2.0},
        "text_cfg": {"context_length": 32, "vocab_size": 1000, "width": 64, "heads": 2, "layers": 2,
                     "mlp_ratio": 2.0, "pool_type": "eos"},
    },
    # The offline demo: learns colour and shape words in seven languages in a few CPU minutes.
    "wwclip-small": {
        "embed_dim": 128,
        "vision_cfg": {"image_size": 32, "layers": 3, "width": 128, "head_width": 32, "patch_size": 4,
                       "mlp_ratio": 2.0},
        "text_cfg": {"context_length": 32, "vocab_size": 1000, "width": 128, "heads": 4, "layers": 3,
                     "mlp_ratio": 2.0, "pool_type": "eos"},
    },
}
OPEN_CLIP_CONFIG = "open_clip_config.json"
WEIGHTS = "open_clip_model.safetensors"


def list_models() -> list[str]:
    import open_clip

    return sorted(SMALL_CONFIGS) + open_clip.list_models()


def resolve_model_config(model: str) -> dict[str, Any]:
    """A deep copy of the model config named by ``model`` (small config, open_clip name, or JSON path)."""
    if model.endswith(".json") or os.path.isdir(model):
        path = os.path.join(model, OPEN_CLIP_CONFIG) if os.path.isdir(model) else model
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
        return cfg.get("model_cfg", cfg)
    if model in SMALL_CONFIGS:
        return copy.deepcopy(SMALL_CONFIGS[model])
    import open_clip

    cfg = open_clip.get_model_config(model)
    if cfg is None:
        raise ValueError(f"unknown model {model!r}; choose one of {list_models()} or give a config JSON path")
    return copy.deepcopy(cfg)


def fit_text_config(cfg: dict[str, Any], tokenizer: Tokenizer, context_length: int | None = None,
                    vocab_size: int | None = None) -> dict[str, Any]:
    """Size the text tower from the tokenizer (vocab, special ids); the config's width/depth stay.

    ``vocab_size`` may enlarge the embedding table beyond the tokenizer's (padding, or matching a baseline).
    """
    if vocab_size is not None and vocab_size < tokenizer.vocab_size:
        raise ValueError(f"vocab_size {vocab_size} is smaller than the tokenizer's {tokenizer.vocab_size}")
    cfg = copy.deepcopy(cfg)
    text = cfg["text_cfg"]
    if text.get("hf_model_name"):
        raise ValueError("configs with a Hugging Face text tower (hf_model_name) need pretrained HF weights; "
                         "use an open_clip text transformer (e.g. ViT-B-32 or a *-worldwide config)")
    for key in ("hf_tokenizer_name", "tokenizer_mode", "tokenizer_kwargs"):
        text.pop(key, None)
    text.update({"vocab_size": vocab_size or tokenizer.vocab_size, "context_length": context_length or tokenizer.context_length,
                 "pad_id": tokenizer.pad_id, "eos_id": tokenizer.eos_id, "pool_type": "eos"})
    return cfg


def build_model(cfg: dict[str, Any], *, device: str | torch.device = "cpu", grad_checkpointing: bool = False):
    """Instantiate open_clip's CLIP (or CustomTextCLIP) from a fully resolved config."""
    from open_clip.model import CLIP, CustomTextCLIP

    cfg = copy.deepcopy(cfg)
    cls = CustomTextCLIP if cfg.pop("custom_text", False) else CLIP
    model = cls(**cfg).to(device)
    if grad_checkpointing:
        model.set_grad_checkpointing(True)
    return model


def create_model(model: str, tokenizer: Tokenizer, *, device: str | torch.device = "cpu",
                 grad_checkpointing: bool = False, context_length: int | None = None, vocab_size: int | None = None):
    """``(model, resolved_config)`` for architecture ``model`` and ``tokenizer``."""
    cfg = fit_text_config(resolve_model_config(model), tokenizer, context_length, vocab_size)
    return build_model(cfg, device=device, grad_checkpointing=grad_checkpointing), cfg


def image_transforms(model_cfg: dict[str, Any]):
    """``(train, eval)`` image transforms of open_clip for the config's image size."""
    from open_clip.transform import image_transform

    size = model_cfg["vision_cfg"].get("image_size", 224)
    return image_transform(size, is_train=True), image_transform(size, is_train=False)


def export_model(model: torch.nn.Module, model_cfg: dict[str, Any], tokenizer: Tokenizer, directory: str) -> str:
    """Write weights, config and tokenizer in open_clip's local-dir layout."""
    from safetensors.torch import save_file

    os.makedirs(directory, exist_ok=True)
    size = model_cfg["vision_cfg"].get("image_size", 224)
    with open(os.path.join(directory, OPEN_CLIP_CONFIG), "w", encoding="utf-8") as f:
        json.dump({"model_cfg": model_cfg, "preprocess_cfg": {"size": size}}, f, indent=1)
    state = {k: v.detach().cpu().contiguous() for k, v in unwrap(model).state_dict().items()}
    save_file(state, os.path.join(directory, WEIGHTS))
    tokenizer.save(directory)
    return directory


def load_exported(directory: str, *, device: str | torch.device = "cpu"):
    """``(model, model_cfg, tokenizer)`` from ``export_model``'s directory, in eval mode."""
    from safetensors.torch import load_file

    from training.tokenizer import load_tokenizer

    model_cfg = resolve_model_config(directory)
    tokenizer = load_tokenizer(directory, context_length=model_cfg["text_cfg"]["context_length"])
    model = build_model(model_cfg, device="cpu")
    model.load_state_dict(load_file(os.path.join(directory, WEIGHTS)))
    return model.to(device).eval(), model_cfg, tokenizer


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside DDP (or the model itself)."""
    return model.module if hasattr(model, "module") else model
