"""CLIC: compositionality-aware fine-tuning of a trained CLIP's text tower (seed 001; SPEC §6, §6.1).

Modules: ``texts`` (usable sentences, word-swap hard negative), ``pos`` (POS taggers mapped to
Universal POS, per language), ``pairs`` (joining two images into one), ``data`` (streamed CLIC
samples from a table or captions file), ``loss`` (``clic_loss``), ``step`` (the hooks the trainer
calls: alternating CLIC / plain CLIP steps, frozen visual tower, optimiser groups, LR schedule),
``sugarcrepe`` (SugarCrepe and SugarCrepe++ evaluation), ``demo`` (the offline shapes demo) and
``__main__`` (``python -m training.clic``). See docs/clic.md.
"""
