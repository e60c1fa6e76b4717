-- Items printed at least once whose call number is not (yet) in Sierra, from one daily snapshot.
SELECT
    item_record_id,
    barcode,
    classification,
    signum,
    print_count,
    last_printed_at,
    coalesce(writeback_status, 'not queued') AS writeback_status
FROM tarroitus_analytics.items
WHERE dt = '2026-11-23'
  AND print_count > 0
  AND coalesce(writeback_status, '') <> 'done'
ORDER BY last_printed_at;
