"""The backend's copy of Sierra's items, kept current.

`full` and `changes`: the two passes a sync run makes, over `pages` (read a page of Sierra within the
budget, store it); `state`: the sync's state row, which pass comes next and its transitions;
`item_mapping`: Sierra items and bibs and legacy rows as rows for the upsert; `uploads`: the legacy
agent's uploaded batches; `trigger`: whether a run may start now.
"""
