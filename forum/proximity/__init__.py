"""Technical proximity (issue #12): executives review evidence runs' failing cases themselves,
decisions keep a snapshot of who reviewed what before deciding, anyone in the forum proposes
edge cases the evidence does not cover yet, and a few figures make the habit visible."""
