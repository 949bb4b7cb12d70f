"""Account set-up: groups and the admin account."""
