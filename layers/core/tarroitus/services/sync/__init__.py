"""The backend's copy of Sierra's items, kept current.

`passes`: which pass a run makes (full or changes); `full` and `changes`: the two passes, over `pages` (read
a page within the budget, store it); `state`: the sync's state row and its transitions; `item_mapping`:
Sierra items and bibs and legacy rows as rows for the upsert; `uploads`: the legacy agent's uploaded batches;
`trigger`: whether a run may start now.
"""
