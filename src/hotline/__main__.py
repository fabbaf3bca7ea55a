"""`python -m hotline`: the same as the `hotline` command."""

import sys

from hotline.cli.main import main

sys.exit(main())
