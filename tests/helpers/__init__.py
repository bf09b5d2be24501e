"""Helpers shared by the tests, as plain modules: conftest files and tests import them here."""
