"""Principals, roles, bearer tokens and the scope each role implies."""
