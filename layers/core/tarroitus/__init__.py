"""Tarroitus: the backend of a library re-labelling solution for the Sierra ILS."""
