import sys

from curation.pipeline.cli import main

sys.exit(main())
