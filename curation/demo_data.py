"""``python -m curation.demo_data``: regenerates the embedded alt-text sample, kept at its documented
path. The generator is ``curation.samples.alt_texts``; the files are in ``curation/samples/``.
"""

from curation.samples import default_alt_texts_path


def main(argv: list[str] | None = None) -> None:
    from curation.samples.alt_texts import main as regenerate

    regenerate(argv)


__all__ = ["default_alt_texts_path", "main"]

if __name__ == "__main__":
    main()
