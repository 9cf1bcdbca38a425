import sys

from curation.metadata.cli import main

sys.exit(main())
