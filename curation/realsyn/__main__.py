"""``python -m curation.realsyn``: the same command line as ``wwclip-realsyn``."""

import sys

from curation.realsyn.cli import main

sys.exit(main())
