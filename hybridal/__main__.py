import sys

from hybridal.cli import main

sys.exit(main())
