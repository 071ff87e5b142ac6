"""The duty's reports: compliance funnel, mentorship survival, and their renderings."""
