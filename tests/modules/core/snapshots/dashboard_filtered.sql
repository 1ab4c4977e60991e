SELECT count(DISTINCT visitor_no) FROM ( SELECT visitor_no FROM pageviews WHERE project_id = $1 AND ts > $2 UNION ALL SELECT visitor_no FROM events WHERE project_id = $1 AND ts > $2) recent;

SELECT since FROM session_rollups_since WHERE project_id = $1;

SELECT day, value, counter, bitmaps, (value = $1) AS passed FROM session_rollups WHERE project_id = $2 AND dimension = $3 AND day >= $4 AND day <= $5 AND counter = ANY($6) AND (value = $1);

SELECT day, value, counter, bitmaps, (value ILIKE $1 ESCAPE '\') AS passed FROM session_rollups WHERE project_id = $2 AND dimension = $3 AND day >= $4 AND day <= $5 AND counter = ANY($6) AND (value ILIKE $1 ESCAPE '\');

SELECT day, value, counter, bitmaps, (true) AS passed FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5);

SELECT chunk, visitors FROM session_visitors WHERE project_id = $1 AND chunk = ANY($2);

SELECT since FROM session_rollups_since WHERE project_id = $1;

SELECT day, value, counter, bitmaps, (value = $1) AS passed FROM session_rollups WHERE project_id = $2 AND dimension = $3 AND day >= $4 AND day <= $5 AND counter = ANY($6) AND (value = $1);

SELECT day, value, counter, bitmaps, (value ILIKE $1 ESCAPE '\') AS passed FROM session_rollups WHERE project_id = $2 AND dimension = $3 AND day >= $4 AND day <= $5 AND counter = ANY($6) AND (value ILIKE $1 ESCAPE '\');

SELECT day, value, counter, bitmaps, (true) AS passed FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5);

SELECT day, value, counter, bitmaps, (value ILIKE $1 ESCAPE '\') AS passed FROM session_rollups WHERE project_id = $2 AND dimension = $3 AND day >= $4 AND day <= $5 AND counter = ANY($6);

SELECT day, value, counter, bitmaps, (true) AS passed FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5);

SELECT day, value, counter, bitmaps, (true) AS passed FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5);

SELECT chunk, visitors FROM session_visitors WHERE project_id = $1 AND chunk = ANY($2);
