import sys

from curation.download.cli import main

if __name__ == "__main__":  # img2dataset's logger process may re-import the main module: keep the guard
    sys.exit(main())
