"""Pieces shared by the campaign apps."""
