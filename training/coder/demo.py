"""CODER on the package's offline demo: the shapes set, the demo model, a hand-written knowledge JSON.

The knowledge is written the way an LLM would answer CODER's three questions for the 12 demo
classes (colour × shape, English): visual attributes, look-alike objects, and how each class
differs from the classes sharing its colour or its shape. It is composed from hand-written facts
per colour and per shape, and written next to the results as ``knowledge.json`` (the format of
:mod:`training.coder.knowledge`). Other languages get name and prompt texts only.

Few-shot images come from a separate labelled pool rendered like the demo's training images
(split ``shots``), written as a zero-shot-format table; the test set is the demo's held-out set.
"""

from __future__ import annotations

import json
import os

import pyarrow as pa

from training.demo_data import COLOURS, SHAPES, class_index, make_images, write_table

COLOUR_FACTS = {
    "red": {"attributes": ["a bright red colour"], "analogous": ["tomato", "red ball"], "near": "orange"},
    "green": {"attributes": ["a green colour like grass"], "analogous": ["green leaf", "lime"], "near": "teal"},
    "blue": {"attributes": ["a deep blue colour"], "analogous": ["blue sky", "blueberry"], "near": "navy"},
    "yellow": {"attributes": ["a bright yellow colour"], "analogous": ["lemon", "yellow sun"], "near": "gold"},
}
SHAPE_FACTS = {
    "circle": {"attributes": ["a round outline", "no corners"], "analogous": ["coin", "button"],
               "differs": "a round outline with no corners"},
    "square": {"attributes": ["four equal straight sides", "four right-angled corners"], "analogous": ["tile", "box"],
               "differs": "four straight sides and four corners"},
    "triangle": {"attributes": ["three straight sides", "three pointed corners"],
                 "analogous": ["warning sign", "pyramid"],
                 "differs": "three sides meeting in a pointed top"},
}


def demo_knowledge() -> dict:
    """The knowledge JSON of the 12 demo classes (English class names ``"{colour} {shape}"``)."""
    classes = {}
    for colour in COLOURS:
        for shape in SHAPES:
            cf, sf = COLOUR_FACTS[colour], SHAPE_FACTS[shape]
            differences = {f"{colour} {s}": [sf["differs"]] for s in SHAPES if s != shape}
            differences.update({f"{c} {shape}": [f"a {colour} colour, not {c}"] for c in COLOURS if c != colour})
            classes[f"{colour} {shape}"] = {
                "attributes": cf["attributes"] + sf["attributes"],
                # the last look-alike is the same shape in a near colour: the filter may reject it
                "analogous": [f"{colour} {a}" for a in sf["analogous"]] + cf["analogous"] + [f"{cf['near']} {shape}"],
                "differences": differences,
            }
    return {"languages": {"en": {"classes": classes}}}


def write_shot_pool(root: str, n: int = 480, seed: int = 0, image_size: int = 64) -> str:
    """A labelled pool of training-like images (zero-shot table format) for drawing the k shots."""
    uri = os.path.join(root, "eval", "shot_pool")
    if not os.path.exists(os.path.join(uri, "_SUCCESS")):
        images = make_images(n, "shots", seed, image_size)
        table = pa.table({"uid": [im.uid for im in images], "jpg": [im.jpg for im in images],
                          "label": pa.array([class_index(im.colour, im.shape) for im in images], pa.int32())})
        write_table(table, uri, "parquet", 1)
    return uri


def prepare_demo(out: str, *, model_dir: str | None = None, steps: int = 120, n_pool: int = 480, seed: int = 0,
                 device: str = "cpu") -> dict:
    """Data, model (trained with ``training.demo`` unless ``model_dir`` is given), pool and knowledge paths."""
    data_root = os.path.join(out, "data")
    if model_dir is None:
        from training.demo import run_demo

        model_dir = os.path.join(out, "run", "model")
        if not os.path.exists(os.path.join(model_dir, "open_clip_model.safetensors")):
            run_demo(out, steps=steps, seed=seed, device=device, workers=1)
    elif not os.path.exists(os.path.join(data_root, "demo_summary.json")):
        from training.demo_data import generate

        generate(data_root, seed=seed)
    knowledge = os.path.join(out, "knowledge.json")
    with open(knowledge, "w", encoding="utf-8") as f:
        json.dump(demo_knowledge(), f, ensure_ascii=False, indent=1)
    return {"model_dir": model_dir, "test": os.path.join(data_root, "eval", "zeroshot"),
            "classes": os.path.join(data_root, "eval", "classes.json"),
            "pool": write_shot_pool(data_root, n_pool, seed), "knowledge": knowledge}
