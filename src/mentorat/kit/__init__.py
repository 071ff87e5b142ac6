"""Shared plumbing: database, errors, pagination, logging."""
