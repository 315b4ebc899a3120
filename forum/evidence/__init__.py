"""Evidence from model tests: result files parsed into runs, gated, shown on the item."""
