"""Personal data: what the service holds about a person, its export, its purge."""
