"""Scoring and solving of child-mentor matching."""
