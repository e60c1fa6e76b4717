"""The SQL of the generated columns, one constant for each revision that installs an expression.

A revision installs the constant named after it for good, and the ORM model declares the newest one. A new rule
is a new constant and a new revision that rewrites the column; an expression here is never edited, so migrating
an empty database always yields the schema each revision produced when it shipped.
"""

#: `items.reprint_needed` (revision 0005); the rule it encodes is explained on `models.Item.reprint_needed`.
REPRINT_NEEDED_0005 = (
    "print_count > 0 AND NOT deleted"
    " AND COALESCE(NULLIF(btrim(classification_override), ''), NULLIF(btrim(classification), '')) IS NOT NULL"
    " AND (COALESCE(NULLIF(btrim(classification_override), ''), NULLIF(btrim(classification), ''))"
    " IS DISTINCT FROM NULLIF(btrim(last_printed_classification), '')"
    " OR COALESCE(NULLIF(btrim(signum), ''), '***') IS DISTINCT FROM NULLIF(btrim(last_printed_signum), ''))"
)
