"""The spreadsheet tests share the API tests' module-wide cast of actors."""

from tests.api.conftest import actors, database, module_actors, module_connection

__all__ = ["actors", "database", "module_actors", "module_connection"]
