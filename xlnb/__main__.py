"""``python -m xlnb``: the same command line as ``xlnb``."""

import sys

from xlnb.cli import main

if __name__ == "__main__":
    sys.exit(main())
