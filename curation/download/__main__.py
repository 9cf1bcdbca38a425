import sys

from curation.download.cli import main

if __name__ == "__main__":  # keep the guard: a spawned process would re-import the main module
    sys.exit(main())
