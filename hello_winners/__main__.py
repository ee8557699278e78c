import sys

from hello_winners.cli import command

sys.exit(command())
