"""Child-mentor pairs put forward, and the two consents that make them a mentorship."""
