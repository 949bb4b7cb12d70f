"""The SQL interface's endpoints (/db/)."""
