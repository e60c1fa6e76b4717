"""Domain logic: pure where possible, over repositories and the Sierra client."""
