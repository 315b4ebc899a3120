"""The cross-functional forum on an item: weight ratings, positions, discussion, escalation."""
