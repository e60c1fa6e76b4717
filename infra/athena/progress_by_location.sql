-- Progress per location from one daily items snapshot (take dt from data_status: tables[items].last_dt).
SELECT
    location_code,
    location_name,
    count(*) AS items_total,
    count_if(print_count > 0) AS items_labelled,
    count_if(writeback_status = 'done') AS items_written_back,
    round(100.0 * count_if(print_count > 0) / count(*), 1) AS percent_labelled
FROM tarroitus_analytics.items
WHERE dt = '2026-11-23'
  AND NOT deleted
GROUP BY location_code, location_name
ORDER BY items_total DESC;
