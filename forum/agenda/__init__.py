"""The executive agenda: meetings, pre-read packs, decisions, follow-up actions, recusal."""
