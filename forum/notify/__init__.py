"""Notifications and reminders: following items, the in-app inbox, e-mail through an outbox,
per-kind e-mail preferences and the reminders command."""
