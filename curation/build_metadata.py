"""``python -m curation.build_metadata``: the metadata builder job, kept at its documented path.

The code is ``curation.metadata.build``; this module only runs its CLI.
"""

import sys

from curation.metadata.build import main

if __name__ == "__main__":
    sys.exit(main())
