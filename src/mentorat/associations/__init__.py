"""Associations that run the volunteer mentors, and the départements they serve."""
