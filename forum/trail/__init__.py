"""The tamper-evident decision trail: an append-only hash chain of events."""
