"""Domain logic: pure where possible (signum, classification, sync planning)."""
