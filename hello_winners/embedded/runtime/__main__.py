import sys

from hello_winners.embedded.runtime.service import main

sys.exit(main())
