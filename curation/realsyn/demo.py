"""A small interleaved-document set in OBELICS layout, generated deterministically, offline.

    python -m curation.realsyn.demo /tmp/realsyn-demo --documents 200

Writes under the root:

- ``documents/``: web pages in OBELICS layout (``texts``/``images`` aligned lists,
  ``metadata``/``general_metadata`` JSON strings), in nine languages (en, de, es, fr, ru, zh,
  ja, th, hi). Each page shows 1-3 rendered shape images (``training.demo_data.render``) and
  paragraphs describing them ("The photo below shows a red circle on the left ...") between
  unrelated prose, plus the dirt real pages carry, each aimed at one filter: links and emoji,
  two-word fragments, an over-long run-on sentence, boilerplate repeated verbatim on many
  pages, near-duplicate boilerplate, catalogue-code lines (low word entropy), small and very
  wide images, one shared logo URL, re-encoded copies of an image under another URL, ``data:``
  image URLs, images that failed to download or do not decode, and a few broken documents
  (unaligned lists, a position with both or neither set, bad metadata JSON).
- ``images/``: what the download stage would have produced: ``uid, url, jpg, width, height``.
- ``synthetic_captions/``: ``uid, syn_text`` (a short English caption per image) for the
  optional synthetic-caption step.
- ``clip/``: a ``wwclip-tiny`` open_clip model exported like ``wwclip-train`` does
  (``--clip-model`` for the pipeline). By default it is trained for ``--train-steps`` (150)
  CPU steps with the project's trainer (``training.train``) on the demo's own image <->
  description pairs (``clip_train/curated``), so its embeddings know colours and shapes in the
  nine languages; ``--train-steps 0`` exports random weights (fast, for tests: embeddings then
  carry no meaning and nearly all images look alike).

Page ``i`` depends only on (seed, i): a larger set starts with the same pages.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq

from curation.ids import image_uid
from curation.localfs import write_text

LANGUAGES = ("en", "de", "es", "fr", "ru", "zh", "ja", "th", "hi")
_EXTRA_VOCAB = {
    "th": {"c": ("สีแดง", "สีเขียว", "สีน้ำเงิน", "สีเหลือง"), "s": ("วงกลม", "สี่เหลี่ยม", "สามเหลี่ยม"),
           "p": ("ด้านซ้าย", "ด้านขวา", "ด้านบน", "ด้านล่าง"), "t": ("{s}{c}อยู่{p}", "รูป{s}{c}ที่{p}")},
    "hi": {"c": ("लाल", "हरा", "नीला", "पीला"), "s": ("वृत्त", "वर्ग", "त्रिभुज"),
           "p": ("बाईं ओर", "दाईं ओर", "ऊपर", "नीचे"), "t": ("{p} एक {c} {s}", "एक {c} {s} {p} है")},
}
FRAMES = {
    "en": ("The photo below shows {cap} in great detail.", "In this picture you can clearly see {cap}.",
           "Our illustrator drew {cap} for this example."),
    "de": ("Das Foto unten zeigt {cap} sehr deutlich.", "Auf diesem Bild sieht man {cap} ganz klar."),
    "es": ("La foto de abajo muestra {cap} con mucho detalle.", "En esta imagen se ve {cap} claramente."),
    "fr": ("La photo ci-dessous montre {cap} en détail.", "Sur cette image on voit {cap} très clairement."),
    "ru": ("На фото ниже хорошо виден {cap} во всех деталях.", "На этой картинке мы видим: {cap}."),
    "zh": ("下面的照片清楚地展示了{cap}。", "在这张图片里可以看到{cap}。"),
    "ja": ("下の写真は{cap}様子を示しています。", "この画像では{cap}のがはっきり見えます。"),
    "th": ("ภาพด้านล่างแสดง{cap}อย่างชัดเจน", "ในภาพนี้เราเห็น{cap}"),
    "hi": ("नीचे की तस्वीर में {cap} साफ़ दिखाई देता है।", "इस चित्र में हम {cap} देख सकते हैं।"),
}
FILLER = {
    "en": ("The weather was pleasant yesterday afternoon in the old city.",
           "Many readers asked us about the history of this small town.",
           "We will publish the next article of the series on Monday morning.",
           "Please share your thoughts about the project in the comments section."),
    "de": ("Das Wetter war gestern Nachmittag in der Altstadt angenehm.",
           "Viele Leser haben uns nach der Geschichte dieser kleinen Stadt gefragt.",
           "Den nächsten Artikel der Reihe veröffentlichen wir am Montagmorgen."),
    "es": ("El tiempo fue agradable ayer por la tarde en la ciudad vieja.",
           "Muchos lectores nos preguntaron por la historia de este pequeño pueblo.",
           "Publicaremos el próximo artículo de la serie el lunes por la mañana."),
    "fr": ("Il faisait beau hier après-midi dans la vieille ville.",
           "Beaucoup de lecteurs nous ont interrogés sur l'histoire de ce petit village.",
           "Nous publierons le prochain article de la série lundi matin."),
    "ru": ("Вчера днём в старом городе была приятная погода.",
           "Многие читатели спрашивали нас об истории этого маленького города.",
           "Следующую статью из этой серии мы опубликуем в понедельник утром."),
    "zh": ("昨天下午老城里的天气非常好。", "很多读者问我们这个小镇的历史。", "我们将在星期一早上发表这个系列的下一篇文章。"),
    "ja": ("昨日の午後は旧市街の天気がとても良かった。", "多くの読者がこの小さな町の歴史について質問しました。",
           "シリーズの次の記事は月曜日の朝に公開します。"),
    "th": ("เมื่อวานตอนบ่ายอากาศในเมืองเก่าดีมาก", "ผู้อ่านหลายคนถามเราเกี่ยวกับประวัติของเมืองเล็ก ๆ แห่งนี้"),
    "hi": ("कल दोपहर पुराने शहर में मौसम बहुत सुहावना था।", "कई पाठकों ने हमसे इस छोटे शहर के इतिहास के बारे में पूछा।"),
}
BOILERPLATE = "All rights reserved by the authors and editors of this website."
NEAR_BOILERPLATE = ("Subscribe to our newsletter to get weekly updates on new articles.",
                    "Subscribe to our newsletter to get weekly updates on new articles!",
                    "subscribe to our newsletter to get weekly updates on new articles")
JUNK_SHORT = ("Click here", "Share 👍 https://t.co/aBc123", "Read more »")
LOGO_URL = "https://demo.invalid/static/logo.jpg"
BAD_JPEG = b"\xff\xd8not a jpeg"
BROKEN_KINDS = ("unaligned_lists", "both_null", "both_set", "bad_metadata", "not_lists")


def _vocab(lang: str) -> dict:
    if lang in _EXTRA_VOCAB:
        return _EXTRA_VOCAB[lang]
    from training.demo_data import VOCAB

    return VOCAB[lang]


def visual_sentence(lang: str, colour: int, shape: int, position: int, rng: random.Random) -> str:
    """A sentence describing one shape image, in ``lang``."""
    v = _vocab(lang)
    cap = rng.choice(v["t"]).format(c=v["c"][colour], s=v["s"][shape], p=v["p"][position])
    return rng.choice(FRAMES[lang]).format(cap=cap)


def _join(sentences: list[str]) -> str:
    """Sentences as one paragraph: no space after a CJK full stop, one space otherwise."""
    out = ""
    for s in sentences:
        out += s if not out or out[-1] in "。！？" else " " + s
    return out


def _jpeg(img, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _render(colour: int, shape: int, position: int, rng: random.Random, size: int, wide: bool = False,
            quality: int = 90) -> tuple[bytes, int, int]:
    from PIL import Image

    from training.demo_data import render

    img = Image.open(io.BytesIO(render(colour, shape, position, rng, size)))
    if wide:
        img = img.resize((size * 4, size))
    return _jpeg(img, quality), img.size[0], img.size[1]


def make_document(i: int, seed: int, image_size: int = 128) -> dict:
    """Page ``i``: ``{texts, images, metadata, general_metadata}`` plus the bytes of its images
    (``_files``: url -> (jpg or None, width, height)) and synthetic captions (``_captions``)."""
    rng = random.Random(f"{seed}/realsyn/doc/{i}")
    lang = LANGUAGES[rng.randrange(len(LANGUAGES))] if rng.random() < 0.6 else "en"
    second = rng.choice(LANGUAGES)
    texts: list[str | None] = []
    images: list[str | None] = []
    meta: list[dict | None] = []
    files: dict[str, tuple[bytes | None, int, int]] = {}
    captions: dict[str, str] = {}
    pairs: dict[str, list[str]] = {}

    def add_text(text: str) -> None:
        texts.append(text)
        images.append(None)
        meta.append(None)

    def add_image(url: str, blob: bytes | None, w: int, h: int, with_size: bool) -> None:
        texts.append(None)
        images.append(url)
        meta.append({"src": url, "alt_text": "", **({"original_width": w, "original_height": h} if with_size else {})})
        files[url] = (blob, w, h)

    intro = list(rng.sample(FILLER[lang], min(2, len(FILLER[lang]))))
    if rng.random() < 0.5:
        intro.append(BOILERPLATE)
    if rng.random() < 0.3:
        intro.append(rng.choice(NEAR_BOILERPLATE))
    if rng.random() < 0.3:
        intro.append(rng.choice(JUNK_SHORT))
    if rng.random() < 0.2:
        codes = " ".join(f"{rng.choice('QXZKJV')}{rng.choice('QXZKJV')}-{rng.randrange(10**6):06d}" for _ in range(5))
        intro.append(f"Catalogue {codes}.")
    add_text(_join(intro) + ("\nVisit https://demo.invalid/more for details 😀" if rng.random() < 0.3 else ""))

    for j in range(rng.randint(1, 3)):
        colour, shape, position = rng.randrange(4), rng.randrange(3), rng.randrange(4)
        url = f"https://demo.invalid/realsyn/{i}/{j}.jpg"
        first = len(images)
        roll = rng.random()
        if roll < 0.05:
            add_image(f"data:image/png;base64,iVBORw0KGgo{i}", None, 0, 0, False)
        elif roll < 0.10:
            blob, w, h = _render(colour, shape, position, rng, 80)
            add_image(url, blob, w, h, rng.random() < 0.5)
        elif roll < 0.14:
            blob, w, h = _render(colour, shape, position, rng, image_size, wide=True)
            add_image(url, blob, w, h, False)
        elif roll < 0.18:
            add_image(url, None, image_size, image_size, False)   # download failed
        elif roll < 0.21:
            add_image(url, BAD_JPEG, image_size, image_size, False)
        elif roll < 0.28:
            colour, shape, position = 0, 1, 2  # the logo: a red square at the top
            logo_rng = random.Random(f"{seed}/realsyn/logo")
            blob, w, h = _render(0, 1, 2, logo_rng, image_size)
            add_image(LOGO_URL, blob, w, h, True)
        else:
            state = rng.getstate()
            blob, w, h = _render(colour, shape, position, rng, image_size)
            add_image(url, blob, w, h, rng.random() < 0.5)
            if roll > 0.92:  # the same picture re-encoded under another URL
                rng.setstate(state)
                copy, _, _ = _render(colour, shape, position, rng, image_size, quality=70)
                add_image(f"https://cdn.demo.invalid/copy/{i}/{j}.jpg", copy, w, h, False)
        caption = [visual_sentence(lang, colour, shape, position, rng)]
        if rng.random() < 0.4:
            caption.append(visual_sentence(second, colour, shape, position, rng))
        if rng.random() < 0.3:
            caption.append(rng.choice(FILLER[lang]))
        add_text(_join(caption))
        v = _vocab("en")
        for shown in images[first:]:
            if shown is not None and files.get(shown, (None,))[0] not in (None, BAD_JPEG):  # decodable only
                captions[shown] = f"a {v['c'][colour]} {v['s'][shape]} on the {v['p'][position]}"
                pairs[shown] = [visual_sentence(other, colour, shape, position, rng) for other in (lang, second)]
    if rng.random() < 0.08:
        add_text(" ".join(rng.choice(("word", "longer", "text", "without", "any", "stop", "sign", "at", "all"))
                          for _ in range(95)) + ".")
    doc = {"texts": texts, "images": images, "metadata": json.dumps(meta, ensure_ascii=False),
           "general_metadata": json.dumps({"url": f"https://demo.invalid/page/{i}", "warc_filename": "demo"})}
    if i % 50 == 49:
        _break(doc, BROKEN_KINDS[(i // 50) % len(BROKEN_KINDS)])
    doc["_files"], doc["_captions"], doc["_pairs"] = files, captions, pairs
    return doc


def _break(doc: dict, kind: str) -> None:
    if kind == "unaligned_lists":
        doc["images"] = doc["images"][:-1]
    elif kind == "both_null":
        doc["texts"][0] = None
    elif kind == "both_set":
        doc["images"][0] = "https://demo.invalid/both.jpg"
    elif kind == "bad_metadata":
        doc["metadata"] = "{not json"
    else:
        doc["texts"] = None


DOC_SCHEMA = pa.schema([("texts", pa.list_(pa.string())), ("images", pa.list_(pa.string())),
                        ("metadata", pa.string()), ("general_metadata", pa.string())])
IMAGE_SCHEMA = pa.schema([("uid", pa.string()), ("url", pa.string()), ("jpg", pa.binary()), ("width", pa.int32()),
                          ("height", pa.int32())])


def train_demo_model(root: str, pairs: list[dict], steps: int, seed: int = 0) -> str:
    """Train ``wwclip-tiny`` on ``pairs`` (uid, url, text, jpg) with ``training.train``; returns
    the exported model directory."""
    from training.reader import DataConfig
    from training.train import TrainConfig, train

    table = os.path.join(root, "clip_train", "curated")
    _write(pairs, pa.schema([("uid", pa.string()), ("url", pa.string()), ("text", pa.string()), ("jpg", pa.binary())]),
           table, 1)
    open(os.path.join(table, "_SUCCESS"), "w").close()
    cfg = TrainConfig(data=DataConfig(table=table, mode="offline", image_bytes_column="jpg", seed=seed),
                      output_dir=os.path.join(root, "clip_train", "run"), model="wwclip-tiny",
                      tokenizer_vocab_size=600, batch_size=64, max_steps=steps, lr=2e-3, weight_decay=0.05,
                      warmup_steps=max(1, steps // 10), workers=0, device="cpu", log_every=max(1, steps // 4),
                      save_every=None, seed=seed, cpu_threads=1)
    return train(cfg)["model_dir"]


def make_demo_model(directory: str, texts: list[str], seed: int = 0, architecture: str = "wwclip-tiny") -> str:
    """Export a random-weight open_clip model with a tokenizer trained on ``texts``."""
    import torch

    from training.model import create_model, export_model
    from training.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(texts, vocab_size=600, context_length=32)
    torch.manual_seed(seed)
    model, cfg = create_model(architecture, tokenizer)
    return export_model(model.eval(), cfg, tokenizer, directory)


def _write(rows: list[dict], schema: pa.Schema, directory: str, num_files: int) -> None:
    os.makedirs(directory, exist_ok=True)
    per = max(1, -(-len(rows) // num_files))
    for f in range(num_files):
        part = rows[f * per:(f + 1) * per]
        pq.write_table(pa.Table.from_pylist(part, schema=schema), os.path.join(directory, f"part-{f:05d}.parquet"))


def generate(root: str, documents: int = 200, seed: int = 0, num_files: int = 2, image_size: int = 128,
             model: bool = True, train_steps: int = 150) -> dict:
    """Write ``documents/``, ``images/``, ``synthetic_captions/`` and ``clip/`` under ``root``."""
    docs, image_rows, caption_rows, sentences, pairs = [], {}, {}, [], []
    for i in range(documents):
        doc = make_document(i, seed, image_size)
        doc_files = doc.pop("_files")
        for url, (blob, w, h) in doc_files.items():
            if blob is not None:
                image_rows[url] = {"uid": image_uid(url), "url": url, "jpg": blob, "width": w, "height": h}
        for url, text in doc.pop("_captions").items():
            caption_rows[url] = {"uid": image_uid(url), "syn_text": text}
        for url, descriptions in doc.pop("_pairs").items():
            blob = doc_files.get(url, (None,))[0]
            if blob is not None:
                pairs.extend({"uid": image_uid(url), "url": url, "text": t, "jpg": blob} for t in descriptions)
        sentences.extend(t for t in (doc["texts"] or []) if t)
        docs.append(doc)
    _write(docs, DOC_SCHEMA, os.path.join(root, "documents"), num_files)
    _write(sorted(image_rows.values(), key=lambda r: r["uid"]), IMAGE_SCHEMA, os.path.join(root, "images"), num_files)
    _write(sorted(caption_rows.values(), key=lambda r: r["uid"]),
           pa.schema([("uid", pa.string()), ("syn_text", pa.string())]), os.path.join(root, "synthetic_captions"), 1)
    summary = {"root": root, "documents": documents, "images": len(image_rows), "seed": seed,
               "languages": list(LANGUAGES)}
    if model and train_steps > 0:
        import shutil

        trained = train_demo_model(root, pairs, train_steps, seed)
        shutil.rmtree(os.path.join(root, "clip"), ignore_errors=True)
        shutil.copytree(trained, os.path.join(root, "clip"))
        summary["clip_model"] = os.path.join(root, "clip")
        summary["clip_train_steps"] = train_steps
    elif model:
        texts = sentences + [r["syn_text"] for r in caption_rows.values()]
        summary["clip_model"] = make_demo_model(os.path.join(root, "clip"), texts, seed)
        summary["clip_train_steps"] = 0
    write_text(os.path.join(root, "demo_summary.json"), json.dumps(summary, indent=1))
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m curation.realsyn.demo", description=__doc__.split("\n")[0])
    ap.add_argument("root")
    ap.add_argument("--documents", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--num-files", type=int, default=2)
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--no-model", dest="model", action="store_false")
    ap.add_argument("--train-steps", type=int, default=150, help="CPU steps for the demo CLIP (0: random weights)")
    args = ap.parse_args(argv)
    summary = generate(args.root, args.documents, args.seed, args.num_files, args.image_size, args.model,
                       args.train_steps)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
