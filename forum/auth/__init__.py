"""Accounts, roles, functions and login."""
