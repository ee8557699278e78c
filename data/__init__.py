"""The recorded workshop logs and their winners: this folder ships inside the package as hello_winners.data."""
