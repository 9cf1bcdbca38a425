"""The offline CLIC demo on the package's shapes data: base CLIP → CLIC fine-tuning → before/after.

    python -m training.clic demo --out /tmp/wwclip-clic-demo

1. **Base model**: ``training.demo.run_demo`` (the shapes set in seven languages, curated with the
   real rules, a small CLIP trained from scratch on CPU) unless ``<out>/base/run/model`` exists.
2. **Long captions**: the base set's training images (``demo_data.make_images``, same seed, so the
   very images the base model saw) get captions of three sentences in one language each
   (:data:`SENTENCES`: the demo's own templates where they are long enough, plus similar ones),
   written as a Parquet table ``<out>/clic/train`` (uid, text, lang, jpg).
3. **Held-out compositional benchmarks** on new images (split ``clic-test``), in the public
   SugarCrepe / SugarCrepe++ file formats, one folder per language (``<out>/clic/eval``):
   ``swap_att`` / ``swap_obj`` — two images joined as CLIC joins them, positive "s_A. s_B.",
   negative with the colours (shapes) of the two sentences exchanged, second positive "s_B. s_A.";
   ``replace_att`` / ``replace_obj`` / ``replace_rel`` — one image, its colour (shape, position)
   replaced, second positive another template. Captions use the base training templates.
   A joined-pair retrieval set (``pairs/captions.jsonl``) is written too.
4. **CLIC fine-tuning** of the base model (``training.clic.finetune``) and evaluation before and
   after: the benchmarks above, the base demo's retrieval and zero-shot sets, pair retrieval.

POS tags: en, de, es, fr, ru have no tagger offline here, so the demo registers word-list taggers
built from the demo vocabulary (colours ADJ, shapes NOUN, positions ADV — a demo choice; the
registry's ``lexicon_tagger``); zh and ja use the real jieba / fugashi taggers, which tag colour,
shape and position words alike as nouns.

Demo settings differ from the reference defaults on purpose: a 3-layer model trained for a few
hundred steps needs a far larger learning rate than a pretrained ViT-B (``--lr``; the reference's
1e-6 barely moves it), and batches are small.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time

import pyarrow as pa

from training.clic.finetune import EvalSources, FinetuneConfig, finetune
from training.clic.pairs import join_pair
from training.clic.pos import TaggerRegistry, lexicon_tagger
from training.clic.step import CLICConfig
from training.clic.texts import join_sentences
from training.demo_data import COLOURS, LANGUAGES, POSITIONS, SHAPES, VOCAB, caption, make_images, write_table
from training.images import load_image
from training.sharding import hash64

log = logging.getLogger("training.clic")

# Three sentences per image and language over {c} colour, {s} shape, {p} position — each with
# more than 3 segmenter words so that usable_sentences keeps it.
SENTENCES: dict[str, tuple[str, ...]] = {
    "en": ("a {c} {s} on the {p}", "a picture of a {c} {s} at the {p}", "the {s} is {c} and sits on the {p}"),
    "de": ("ein {s} in {c} , {p}", "{s} in {c} {p} im Bild", "die Form ist ein {s} in {c} , {p}"),
    "es": ("un {s} {c} a la {p}", "hay un {s} {c} a la {p}", "el {s} es {c} y está a la {p}"),
    "fr": ("un {s} {c} en {p}", "{s} {c} , côté {p}", "il y a un {s} {c} en {p}"),
    "ru": ("здесь {c} {s} {p}", "{c} {s} находится {p}", "мы видим {c} {s} {p}"),
    "zh": ("{p}有一个{c}的{s}", "一个{c}{s}在{p}", "这是一个{c}的{s}在{p}"),
    "ja": ("{c}色の{s}が{p}にある", "{p}に{c}色の{s}", "{c}色の{s}が{p}に見える"),
}
LEXICON_LANGUAGES = ("en", "de", "es", "fr", "ru")
JOIN_SIZE = 64  # the demo images are 64 px and the model sees 32 px: no need to join at 224
SWAP_SUBSETS = ("swap_att", "swap_obj")
REPLACE_SUBSETS = ("replace_att", "replace_obj", "replace_rel")


def sentence(lang: str, template: int, colour: int, shape: int, position: int) -> str:
    v = VOCAB[lang]
    return SENTENCES[lang][template].format(c=v["c"][colour], s=v["s"][shape], p=v["p"][position])


def long_caption(lang: str, colour: int, shape: int, position: int, rng: random.Random) -> str:
    """Three sentences about one shape, in a random order."""
    order = list(range(len(SENTENCES[lang])))
    rng.shuffle(order)
    return join_sentences([sentence(lang, t, colour, shape, position) for t in order], lang)


def demo_registry() -> TaggerRegistry:
    """Word-list taggers for the demo's spaced languages; zh/ja keep their real taggers."""
    reg = TaggerRegistry(auto_spacy=False)
    for lang in LEXICON_LANGUAGES:
        v = VOCAB[lang]
        words = {**{c: "ADJ" for c in v["c"]}, **{s: "NOUN" for s in v["s"]}, **{p: "ADV" for p in v["p"]}}
        reg.register(lang, lexicon_tagger(words, lang, f"demo-lexicon-{lang}"), f"demo-lexicon-{lang}")
    return reg


def write_train_table(root: str, n_train: int, seed: int) -> dict:
    """``<root>/train``: the base set's training images with a three-sentence caption in one language."""
    images = make_images(n_train, "train", seed)
    rows: dict[str, list] = {"uid": [], "text": [], "lang": [], "jpg": []}
    for im in images:
        rng = random.Random(hash64(seed, "clic-caption", im.uid))
        lang = LANGUAGES[rng.randrange(len(LANGUAGES))]
        rows["uid"].append(im.uid)
        rows["text"].append(long_caption(lang, im.colour, im.shape, im.position, rng))
        rows["lang"].append(lang)
        rows["jpg"].append(im.jpg)
    write_table(pa.table(rows), os.path.join(root, "train"), "parquet", num_files=2, row_group_size=256)
    return {"train_images": len(images)}


def _other(rng: random.Random, n: int, not_this: int) -> int:
    return (not_this + 1 + rng.randrange(n - 1)) % n


def write_eval_sets(root: str, n_items: int, seed: int) -> dict:
    """SugarCrepe(-style) and SugarCrepe++ files per language, their images, and a pair-retrieval set."""
    images = make_images(4 * n_items, "clic-test", seed)
    img_dir = os.path.join(root, "eval", "images")
    os.makedirs(img_dir, exist_ok=True)
    rng = random.Random(f"{seed}/clic-eval")
    sc: dict[str, dict[str, list]] = {lang: {s: [] for s in SWAP_SUBSETS + REPLACE_SUBSETS} for lang in LANGUAGES}
    pair_rows = []
    # joined pairs with different colours and different shapes: both swaps change the meaning
    pairs, i = [], 0
    pool = images[: 2 * n_items]
    while len(pairs) < n_items and i + 1 < len(pool) * 4:
        a, b = rng.sample(pool, 2)
        i += 1
        if a.colour != b.colour and a.shape != b.shape:
            pairs.append((a, b))
    for k, (a, b) in enumerate(pairs):
        name = f"pair{k:04d}.png"
        join_pair(load_image(a.jpg), load_image(b.jpg), rng.random() < 0.5, JOIN_SIZE).save(os.path.join(img_dir, name))
        for lang in LANGUAGES:
            s_a, s_b = (caption(lang, x.colour, x.shape, x.position, 0) for x in (a, b))
            pos, pos2 = join_sentences([s_a, s_b], lang), join_sentences([s_b, s_a], lang)
            att = join_sentences([caption(lang, b.colour, a.shape, a.position, 0),
                                  caption(lang, a.colour, b.shape, b.position, 0)], lang)
            obj = join_sentences([caption(lang, a.colour, b.shape, a.position, 0),
                                  caption(lang, b.colour, a.shape, b.position, 0)], lang)
            sc[lang]["swap_att"].append({"filename": name, "caption": pos, "caption2": pos2, "negative_caption": att})
            sc[lang]["swap_obj"].append({"filename": name, "caption": pos, "caption2": pos2, "negative_caption": obj})
            pair_rows.append({"image": f"../images/{name}", "text": pos, "lang": lang})
    for k, im in enumerate(images[2 * n_items: 3 * n_items]):
        name = f"single{k:04d}.png"
        load_image(im.jpg).save(os.path.join(img_dir, name))
        c2, s2, p2 = (_other(rng, len(COLOURS), im.colour), _other(rng, len(SHAPES), im.shape),
                      _other(rng, len(POSITIONS), im.position))
        for lang in LANGUAGES:
            pos = caption(lang, im.colour, im.shape, im.position, 0)
            pos2 = caption(lang, im.colour, im.shape, im.position, 1)
            for subset, neg in (("replace_att", caption(lang, c2, im.shape, im.position, 0)),
                                ("replace_obj", caption(lang, im.colour, s2, im.position, 0)),
                                ("replace_rel", caption(lang, im.colour, im.shape, p2, 0))):
                sc[lang][subset].append({"filename": name, "caption": pos, "caption2": pos2, "negative_caption": neg})
    for lang in LANGUAGES:
        for kind in ("sugarcrepe", "sugarcrepe_pp"):
            folder = os.path.join(root, "eval", kind, lang)
            os.makedirs(folder, exist_ok=True)
            for subset, items in sc[lang].items():
                if kind == "sugarcrepe":  # SugarCrepe's layout: an object keyed by item number, no caption2
                    data: object = {str(j): {k: v for k, v in it.items() if k != "caption2"}
                                    for j, it in enumerate(items)}
                else:  # SugarCrepe++'s layout: a list with ids
                    data = [{"id": j, **it} for j, it in enumerate(items)]
                with open(os.path.join(folder, f"{subset}.json"), "w", encoding="utf-8") as f:
                    json.dump(data, f, ensure_ascii=False, indent=1)
    pair_dir = os.path.join(root, "eval", "pairs")
    os.makedirs(pair_dir, exist_ok=True)
    with open(os.path.join(pair_dir, "captions.jsonl"), "w", encoding="utf-8") as f:
        for row in pair_rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"pairs": len(pairs), "singles": n_items, "languages": list(LANGUAGES)}


def run(out: str, *, base_steps: int = 400, clic_steps: int = 600, batch_size: int = 32, lr: float = 2e-4,
        n_train: int = 4000, n_eval: int = 150, seed: int = 0, workers: int = 1, device: str = "cpu") -> dict:
    """The whole demo; returns (and writes to ``<out>/clic_demo_results.json``) the before/after figures."""
    t0 = time.time()
    base_model = os.path.join(out, "base", "run", "model")
    base_seconds = None
    if not os.path.exists(os.path.join(base_model, "open_clip_config.json")):
        from training.demo import run_demo

        tb = time.time()
        run_demo(os.path.join(out, "base"), steps=base_steps, n_train=n_train, workers=workers, seed=seed,
                 device=device)
        base_seconds = round(time.time() - tb, 1)
    clic_root = os.path.join(out, "clic")
    if not os.path.exists(os.path.join(clic_root, "eval", "pairs", "captions.jsonl")):
        write_train_table(clic_root, n_train, seed)
        write_eval_sets(clic_root, n_eval, seed)
    base_eval = os.path.join(out, "base", "data", "eval")
    cfg = FinetuneConfig(
        pretrained=base_model, data=os.path.join(clic_root, "train"), output_dir=os.path.join(out, "clic", "run"),
        clic=CLICConfig(lr=lr, lr_start=lr / 10, lr_end=lr / 100, batch_size=batch_size),
        seed=seed, workers=workers, device=device, max_steps=clic_steps, steps_per_epoch=clic_steps,
        join_size=JOIN_SIZE, log_every=max(1, clic_steps // 10),
        eval=EvalSources(sugarcrepe=os.path.join(clic_root, "eval", "sugarcrepe"),
                         sugarcrepe_pp=os.path.join(clic_root, "eval", "sugarcrepe_pp"),
                         image_root=os.path.join(clic_root, "eval", "images"),
                         retrieval=os.path.join(base_eval, "retrieval"), zeroshot=os.path.join(base_eval, "zeroshot"),
                         classes=os.path.join(base_eval, "classes.json")))
    results = finetune(cfg, registry=demo_registry())
    pair_eval = EvalSources(retrieval=os.path.join(clic_root, "eval", "pairs", "captions.jsonl"))
    from training.clic.finetune import evaluate_model, load_pretrained
    from training.model import image_transforms

    for when, path in (("before", base_model), ("after", results["train"]["model_dir"])):
        model, model_cfg, tok = load_pretrained(path)
        results[when]["pair_retrieval"] = evaluate_model(model, tok, image_transforms(model_cfg)[1], pair_eval)[
            "retrieval"]
    summary = {"figures": summarise(results), "train": results["train"], "base_train_seconds": base_seconds,
               "total_seconds": round(time.time() - t0, 1), "settings": {
                   "base_steps": base_steps, "clic_steps": clic_steps, "batch_size": batch_size, "lr": lr,
                   "n_train": n_train, "n_eval": n_eval, "seed": seed, "device": device}}
    with open(os.path.join(out, "clic_demo_results.json"), "w", encoding="utf-8") as f:
        json.dump({**summary, "before": results["before"], "after": results["after"]}, f, indent=1,
                  ensure_ascii=False)
    return summary


def summarise(results: dict) -> dict:
    """The headline figures, before and after: means over languages of each subset, retrieval R@1/5."""
    out: dict = {}
    for when in ("before", "after"):
        r = results[when]
        fig: dict = {}
        for name, key in (("sugarcrepe", "acc"), ("sugarcrepe_pp", "itt"), ("sugarcrepe_pp", "tot")):
            langs = r[name]
            label = name if name == "sugarcrepe" else f"sugarcrepe_pp_{key}"
            subsets = sorted(next(iter(langs.values()))["subsets"])
            fig[label] = {s: sum(langs[lang]["subsets"][s][key] for lang in langs) / len(langs) for s in subsets}
            fig[label]["mean"] = sum(langs[lang][f"mean_{key}"] for lang in langs) / len(langs)
            fig[f"{label}_per_language"] = {lang: langs[lang][f"mean_{key}"] for lang in langs}
        for name in ("retrieval", "pair_retrieval"):
            fig[name] = {k: r[name][k] for k in ("text_to_image_R@1", "text_to_image_R@5", "image_to_text_R@1",
                                                 "image_to_text_R@5")}
        fig["zero_shot_mean_top1"] = r["zero_shot"]["mean_top1"]
        out[when] = fig
    return out


def format_table(figures: dict) -> str:
    """Markdown rows ``| measure | before | after | change |`` of ``summarise``'s figures."""
    rows = ["| measure | before | after | change |", "|---|---|---|---|"]

    def add(label: str, b: float, a: float) -> None:
        rows.append(f"| {label} | {100 * b:.1f} | {100 * a:.1f} | {100 * (a - b):+.1f} |")

    before, after = figures["before"], figures["after"]
    for block in ("sugarcrepe", "sugarcrepe_pp_itt", "sugarcrepe_pp_tot"):
        for subset in before[block]:
            add(f"{block} {subset}", before[block][subset], after[block][subset])
    for block in ("retrieval", "pair_retrieval"):
        for k in before[block]:
            add(f"{block} {k}", before[block][k], after[block][k])
    add("zero-shot mean top-1", before["zero_shot_mean_top1"], after["zero_shot_mean_top1"])
    return "\n".join(rows)


def binding_probe(model_dir: str, n_pairs: int = 2400, n_train: int = 1800, seed: int = 7) -> dict:
    """How much colour–shape binding the (frozen) image features of joined pairs carry.

    Linear probes (softmax regression on the normalised image embedding) on ``n_pairs`` joined
    pairs with two different colours and shapes: ``binding`` predicts whether the lower-numbered
    shape carries the lower-numbered colour (what a swap_att negative flips); ``bag`` predicts the
    lowest colour present (a bag-of-words fact). Returns test accuracies and majority baselines.
    """
    import torch
    import torch.nn.functional as F

    from training.clic.finetune import load_pretrained
    from training.model import image_transforms

    model, model_cfg, _ = load_pretrained(model_dir)
    preprocess = image_transforms(model_cfg)[1]
    images = make_images(max(100, n_pairs), "probe", seed)
    rng = random.Random(seed)
    xs, binding, bag = [], [], []
    while len(xs) < n_pairs:
        a, b = rng.sample(images, 2)
        if a.colour == b.colour or a.shape == b.shape:
            continue
        xs.append(preprocess(join_pair(load_image(a.jpg), load_image(b.jpg), rng.random() < 0.5, JOIN_SIZE)))
        lo, hi = (a, b) if a.shape < b.shape else (b, a)
        binding.append(int(lo.colour < hi.colour))
        bag.append(min(a.colour, b.colour))
    with torch.no_grad():
        feats = torch.cat([F.normalize(model.encode_image(torch.stack(xs[i:i + 256])), dim=-1)
                           for i in range(0, len(xs), 256)])

    def probe(labels: list[int]) -> dict:
        y = torch.tensor(labels)
        k = int(y.max()) + 1
        w = torch.zeros(feats.shape[1], k, requires_grad=True)
        b = torch.zeros(k, requires_grad=True)
        opt = torch.optim.Adam([w, b], lr=0.05)
        for _ in range(800):
            opt.zero_grad()
            loss = F.cross_entropy(feats[:n_train] @ w * 10 + b, y[:n_train]) + 1e-4 * w.pow(2).sum()
            loss.backward()
            opt.step()
        test = y[n_train:]
        acc = float(((feats[n_train:] @ w * 10 + b).argmax(1) == test).float().mean())
        return {"accuracy": acc, "majority": float(torch.bincount(test).max() / len(test))}

    return {"binding": probe(binding), "bag": probe(bag), "pairs": n_pairs, "train": n_train}
