"""Decision Forum: AI decision items, their weight and evidence, and a tamper-evident trail."""
