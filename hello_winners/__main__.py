import sys

from hello_winners.cli import main

sys.exit(main())
