"""``python -m curation.default_metadata``: rebuilds the embedded default metadata, kept at its
documented path. The code is ``curation.metadata.default``; this module only runs its CLI.
"""

from curation.metadata.default import main

if __name__ == "__main__":
    main()
