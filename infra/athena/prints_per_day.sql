-- Labels printed per UTC day and distinct items labelled, over a date range.
SELECT
    dt,
    count(*) AS labels,
    count(DISTINCT item_record_id) AS items,
    count(*) - count(DISTINCT item_record_id) AS reprints
FROM tarroitus_analytics.label_events
WHERE dt BETWEEN '2026-01-01' AND '2026-12-31'
GROUP BY dt
ORDER BY dt;
