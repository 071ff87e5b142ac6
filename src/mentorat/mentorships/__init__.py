"""Mentorships over time: states and events, objectives and their revisions, meetings."""
