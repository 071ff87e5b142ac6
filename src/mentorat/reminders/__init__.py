"""The daily reminders: events telling clients what needs doing, each told once."""
