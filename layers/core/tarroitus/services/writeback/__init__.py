"""Writeback of labelled items' new call numbers to Sierra.

`queue`: the worker that claims queued items and writes them, its operator view and retry; `plan` and
`call_number`: what to PUT for one item; `dry_run`: what a run would send, writing nothing (go-live check).
"""
