"""Pieces every app builds on: configuration, bulk COPY, the JSON API base, permissions, counting."""
