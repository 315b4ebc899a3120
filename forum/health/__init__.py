"""Forum health: the figures that tell leaders whether their decision cycle keeps up with how
fast their models change (decision cycle time, escalations per month, evidence freshness)."""
