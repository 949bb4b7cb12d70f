"""Accounts' HTTP pieces: login throttling, signals, whoami."""
