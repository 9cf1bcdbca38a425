"""``--method clic`` in the trainer's one loop: step order, frozen visual tower, clamp, AdamW, resume, torchrun."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file, save_file

from training.clic.demo import demo_registry
from training.distributed import DistInfo
from training.launch import parse_args
from training.model import WEIGHTS
from training.optim import Stepper
from training.reader import DataConfig
from training.train import TrainConfig, _setup, train


def _cfg(setup, out, **kw) -> TrainConfig:
    base = {"data": DataConfig(table=str(setup / "data" / "train"), seed=1), "output_dir": str(out), "method": "clic",
            "pretrained": str(setup / "base"), "model": None, "batch_size": 4, "max_steps": 4, "workers": 0,
            "clic_join_size": 64, "log_every": 2, "save_every": None, "record_data_order": True,
            "lr": 1e-3, "lr_start": 1e-4, "lr_end": 1e-5}
    base.update(kw)
    return TrainConfig(**base)


def _order(out, rank: int = 0) -> list[dict]:
    with open(os.path.join(out, "data_order", f"rank{rank}.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_method_defaults_are_the_reference_and_explicit_values_win(clic_setup, tmp_path):
    data = DataConfig(table=str(clic_setup / "data" / "train"))
    c = TrainConfig(data=data, output_dir=str(tmp_path), method="clic", pretrained=str(clic_setup / "base"))
    assert (c.lr, c.lr_start, c.lr_end, c.warmup_epochs, c.warmup_steps) == (1e-6, 1e-7, 1e-8, 0.2, None)
    assert (c.betas, c.eps, c.weight_decay, c.grad_clip) == ((0.9, 0.98), 1e-8, 0.1, None)
    assert c.warmup(100) == 20 and c.warmup(37) == 7  # int(0.2 × steps per epoch), as the reference rounds
    assert c.lr_at(0, 20, 100) == pytest.approx(1e-7) and c.lr_at(19, 20, 100) == pytest.approx(1e-6)
    assert c.lr_at(100, 20, 100) == pytest.approx(1e-8)
    e = TrainConfig(data=data, output_dir=str(tmp_path), method="clic", pretrained=str(clic_setup / "base"),
                    lr=1e-3, eps=1e-6, weight_decay=0.0, grad_clip=2.0, warmup_steps=5)
    assert (e.lr, e.eps, e.weight_decay, e.grad_clip, e.warmup_steps, e.warmup_epochs) == (
        1e-3, 1e-6, 0.0, 2.0, 5, None)
    assert (e.lr_start, e.lr_end) == (1e-7, 1e-8)
    # the CLIP path keeps its defaults and its schedule
    p = TrainConfig(data=data, output_dir=str(tmp_path))
    assert (p.method, p.lr, p.weight_decay, p.eps, p.warmup_steps, p.grad_clip, p.lr_start) == (
        "clip", 5e-4, 0.2, 1e-6, 100, 1.0, None, )
    assert p.lr_at(0, 4, 20) == pytest.approx(5e-4 / 4)
    assert TrainConfig(data=data, output_dir=str(tmp_path), grad_clip=None).grad_clip is None
    for bad, match in (({"pretrained": None, "model": "wwclip-tiny"}, "pretrained"),
                       ({"lr_start": 1e-7}, "together"), ({"warmup_steps": 3, "warmup_epochs": 0.1}, "not both"),
                       ({"clic_weights": (1.0, -1.0, 1.0)}, "non-negative"), ({"method": "negclip"}, "method")):
        kw = {"data": data, "output_dir": str(tmp_path), "method": "clic", "pretrained": str(clic_setup / "base"),
              **bad}
        with pytest.raises(ValueError, match=match):
            TrainConfig(**kw)
    with pytest.raises(ValueError, match="offline"):
        TrainConfig(data=DataConfig(table="/t/matched", mode="online"), output_dir=str(tmp_path), method="clic",
                    pretrained=str(clic_setup / "base"))


def test_launcher_method_clic_flags(clic_setup, tmp_path):
    args = ["--method", "clic", "--pretrained", str(clic_setup / "base"), "--table", "/t/long", "--output-dir",
            str(tmp_path)]
    c = parse_args(args)
    assert (c.method, c.model, c.lr, c.lr_start, c.eps, c.weight_decay, c.grad_clip, c.warmup_epochs) == (
        "clic", None, 1e-6, 1e-7, 1e-8, 0.1, None, 0.2)
    c = parse_args(args + ["--lr", "1e-4", "--grad-clip", "1", "--warmup", "7", "--clic-no-alternate",
                           "--clic-weights", "1", "0", "2", "--spacy", "de=de_core_news_sm"])
    assert (c.lr, c.grad_clip, c.warmup_steps, c.warmup_epochs, c.clic_alternate) == (1e-4, 1.0, 7, None, False)
    assert c.clic_weights == (1.0, 0.0, 2.0) and c.spacy == {"de": "de_core_news_sm"}
    clip = parse_args(["--table", "/t/curated", "--output-dir", str(tmp_path)])
    assert (clip.method, clip.lr, clip.weight_decay, clip.eps, clip.warmup_steps, clip.grad_clip) == (
        "clip", 5e-4, 0.2, 1e-6, 100, 1.0)
    assert parse_args(["--table", "/t/curated", "--output-dir", str(tmp_path), "--grad-clip", "0"]).grad_clip is None
    with pytest.raises(SystemExit):
        parse_args(args + ["--spacy", "de"])


def test_optimizer_groups_and_settings_of_a_clic_run(clic_setup, tmp_path):
    run = _setup(_cfg(clic_setup, tmp_path, lr=None, lr_start=None, lr_end=None), DistInfo(), "fp32",
                 tagger_registry=demo_registry())
    model, opt = run.stepper.model, run.stepper.optimizer
    named = dict(model.named_parameters())
    in_opt = {id(p): g for g in opt.param_groups for p in g["params"]}
    assert all(not p.requires_grad and id(p) not in in_opt for k, p in named.items() if "visual" in k)
    assert all(id(p) in in_opt for k, p in named.items() if "visual" not in k)  # text tower, embedding, scale
    for k, p in named.items():
        if "visual" in k:
            continue
        no_decay = p.ndim < 2 or "bias" in k or "ln" in k or "logit_scale" in k
        assert in_opt[id(p)]["weight_decay"] == (0.0 if no_decay else 0.1), k
    assert in_opt[id(named["token_embedding.weight"])]["weight_decay"] == 0.1
    assert {(g["betas"], g["eps"]) for g in opt.param_groups} == {((0.9, 0.98), 1e-8)}
    assert run.stepper.grad_clip is None and run.warmup == int(0.2 * run.steps_per_epoch)
    assert run.steps_per_epoch == 120 // 4  # table rows // global batch


def test_steps_alternate_clic_then_clip_in_the_loop_and_visual_weights_stay(clic_setup, tmp_path, monkeypatch):
    """The real loop: even steps go through ``Stepper.step`` with the joined pairs and five texts per
    image, odd steps through the CLIP ``Stepper.__call__`` with image A and one sentence."""
    calls: list[tuple] = []
    inside_clip = []
    plain_call, plain_step = Stepper.__call__, Stepper.step

    def spy_call(self, images, texts, lr, counts=None):
        calls.append(("clip", tuple(images.shape), tuple(texts.shape)))
        inside_clip.append(True)
        try:
            return plain_call(self, images, texts, lr, counts)
        finally:
            inside_clip.pop()

    def spy_step(self, lr, compute_loss):
        if not inside_clip:  # an update of its own, not the CLIP call's
            calls.append(("clic-update",))
        return plain_step(self, lr, compute_loss)

    monkeypatch.setattr(Stepper, "__call__", spy_call)
    monkeypatch.setattr(Stepper, "step", spy_step)
    summary = train(_cfg(clic_setup, tmp_path, max_steps=5), tagger_registry=demo_registry())
    assert summary["steps"] == 5 and summary["clic"]["steps"] == {"clic": 3, "clip": 2}
    kinds = [c[0] for c in calls]
    assert kinds == ["clic-update", "clip", "clic-update", "clip", "clic-update"]
    clip_calls = [c for c in calls if c[0] == "clip"]
    assert all(c[1][0] == 4 and len(c[2]) == 2 and c[2][0] == 4 for c in clip_calls)  # [B,3,H,W], [B,L]
    assert [r["kind"] for r in _order(tmp_path)] == ["clic", "clip", "clic", "clip", "clic"]
    uids = [u for r in _order(tmp_path) for u in r["uids"]]
    assert len(uids) == len(set(uids)) == 20  # one batch per step, each image A once in the epoch
    before, after = load_file(str(clic_setup / "base" / WEIGHTS)), load_file(str(tmp_path / "model" / WEIGHTS))
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("visual."))
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert any(k.startswith("transformer.") for k in changed) and "token_embedding.weight" in changed
    assert "text_projection" in changed


def test_no_alternate_trains_clic_on_every_step(clic_setup, tmp_path):
    summary = train(_cfg(clic_setup, tmp_path, clic_alternate=False), tagger_registry=demo_registry())
    assert summary["clic"]["steps"] == {"clic": 4, "clip": 0}
    assert {r["kind"] for r in _order(tmp_path)} == {"clic"}


def test_logit_scale_is_clamped_to_ln_100(clic_setup, tmp_path):
    base = tmp_path / "hot"
    base.mkdir()
    for name in os.listdir(clic_setup / "base"):
        if name != WEIGHTS:
            (base / name).write_bytes((clic_setup / "base" / name).read_bytes())
    state = load_file(str(clic_setup / "base" / WEIGHTS))
    state["logit_scale"] = torch.tensor(9.0)  # temperature e^9 > 100
    save_file(state, str(base / WEIGHTS))
    train(_cfg(clic_setup, tmp_path / "run", pretrained=str(base), max_steps=1), tagger_registry=demo_registry())
    after = load_file(str(tmp_path / "run" / "model" / WEIGHTS))["logit_scale"]
    assert float(after) == pytest.approx(math.log(100))
    # and the lower bound: a negative log scale comes back to 0 after an update
    stepper = Stepper(torch.nn.Module(), torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1),
                      torch.device("cpu"))
    stepper.model.logit_scale = torch.nn.Parameter(torch.tensor(-1.0))
    stepper.step(0.1, lambda: (stepper.optimizer.param_groups[0]["params"][0] ** 2).sum()
                 + 0 * stepper.model.logit_scale)
    assert float(stepper.model.logit_scale.detach()) == 0.0


def test_resumed_clic_run_trains_the_same_batches(clic_setup, tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    kw = {"max_steps": 6, "save_every": 100}
    train(_cfg(clic_setup, full, **kw), tagger_registry=demo_registry())
    first = train(_cfg(clic_setup, part, stop_at_step=3, **kw), tagger_registry=demo_registry())
    assert first["steps"] == 3 and not first["finished"]
    second = train(_cfg(clic_setup, part, resume="latest", **kw), tagger_registry=demo_registry())
    assert second["steps"] == 6 and second["finished"]
    assert [(r["step"], r["kind"], r["uids"]) for r in _order(part)] == \
        [(r["step"], r["kind"], r["uids"]) for r in _order(full)]
    a, b = load_file(str(full / "model" / WEIGHTS)), load_file(str(part / "model" / WEIGHTS))
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_torchrun_clic_two_ranks_gloo(clic_setup, tmp_path):
    """``torchrun --nproc_per_node 2 -m training.launch --method clic`` on CPU: both ranks alternate in
    step, read disjoint images, and the exported model keeps the visual tower."""
    out = tmp_path / "tr"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "training.launch", "--method", "clic", "--pretrained", str(clic_setup / "base"),
           "--table", str(clic_setup / "data" / "train"), "--output-dir", str(out), "--batch-size", "4",
           "--max-steps", "4", "--workers", "1", "--clic-join-size", "64", "--lr", "1e-3", "--lr-start", "1e-4",
           "--lr-end", "1e-5", "--log-every", "2", "--record-data-order", "--data-seed", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 4 and summary["method"] == "clic"
    assert summary["clic"]["steps"] == {"clic": 2, "clip": 2} and summary["clic"]["stats"]["samples"] >= 32
    orders = [_order(out, r) for r in (0, 1)]
    assert [r["kind"] for r in orders[0]] == [r["kind"] for r in orders[1]] == ["clic", "clip", "clic", "clip"]
    seen = [{u for r in o for u in r["uids"]} for o in orders]
    assert len(seen[0]) == len(seen[1]) == 16 and not seen[0] & seen[1]
    before, after = load_file(str(clic_setup / "base" / WEIGHTS)), load_file(str(out / "model" / WEIGHTS))
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("visual."))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("transformer."))
