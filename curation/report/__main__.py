import sys

from curation.report.cli import main

sys.exit(main())
