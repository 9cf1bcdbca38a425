import sys

from curation.commoncrawl.cli import main

sys.exit(main())
