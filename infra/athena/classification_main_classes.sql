-- Printed labels per main class (first two characters of the classification) and year.
SELECT
    substr(dt, 1, 4) AS year,
    substr(classification, 1, 2) AS main_class,
    count(*) AS labels,
    count(DISTINCT item_record_id) AS items
FROM tarroitus_analytics.label_events
WHERE dt BETWEEN '2024-01-01' AND '2026-12-31'
GROUP BY 1, 2
ORDER BY year, labels DESC;
