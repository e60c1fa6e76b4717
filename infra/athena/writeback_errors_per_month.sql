-- Failed writebacks per month and Sierra error code, with a sample message.
SELECT
    substr(dt, 1, 7) AS month,
    sierra_code,
    http_status,
    count(*) AS failures,
    count(DISTINCT item_record_id) AS items,
    arbitrary(error) AS sample_error
FROM tarroitus_analytics.writeback_attempts
WHERE dt >= '2026-01-01'
  AND outcome IN ('failed_retrying', 'dead_lettered', 'claim_expired')
GROUP BY 1, 2, 3
ORDER BY month, failures DESC;
