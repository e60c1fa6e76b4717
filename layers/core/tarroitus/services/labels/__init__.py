"""Spine labels: what was printed and what to print.

`prints`: print events recorded, counted on the item and queued for writeback; `layout`, `font` and
`render`: a label laid out on its stock and drawn as SVG or PDF; `rendered`: an item's label rendered for printing.
"""
