-- Labels per station and hour of day (Helsinki time) over a quarter, with station names from a clients snapshot.
SELECT
    coalesce(c.name, '(deleted client)') AS station,
    hour(e.printed_at AT TIME ZONE 'Europe/Helsinki') AS hour_of_day,
    count(*) AS labels,
    count(DISTINCT e.dt) AS active_days
FROM tarroitus_analytics.label_events e
LEFT JOIN tarroitus_analytics.clients c
    ON c.client_id = e.client_id AND c.dt = '2026-11-23'
WHERE e.dt BETWEEN '2026-07-01' AND '2026-09-30'
GROUP BY 1, 2
ORDER BY 1, 2;
