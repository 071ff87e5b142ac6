"""Retention: personal data kept no longer than its purpose needs."""
