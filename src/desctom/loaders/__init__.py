"""Loaders shared by the campaign apps."""
