"""Volunteer mentors, members of an association."""
