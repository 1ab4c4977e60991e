SELECT count(DISTINCT visitor_no) FROM ( SELECT visitor_no FROM pageviews WHERE project_id = $1 AND ts > $2 UNION ALL SELECT visitor_no FROM events WHERE project_id = $1 AND ts > $2) recent;

SELECT since FROM session_rollups_since WHERE project_id = $1;

SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5) GROUP BY day;

SELECT chunk, visitors FROM session_visitors WHERE project_id = $1 AND chunk = ANY($2);

SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5) AND (value = $6) GROUP BY day;

SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5) AND (value ILIKE $6 ESCAPE '\') GROUP BY day;

SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5) GROUP BY day;

SELECT since FROM session_rollups_since WHERE project_id = $1;

SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5) GROUP BY day;

SELECT chunk, visitors FROM session_visitors WHERE project_id = $1 AND chunk = ANY($2);

SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5) AND (value = $6) GROUP BY day;

SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5) AND (value ILIKE $6 ESCAPE '\') GROUP BY day;

SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5) GROUP BY day;

SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5) GROUP BY day;

SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5) GROUP BY day;

SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size FROM session_rollups WHERE project_id = $1 AND dimension = $2 AND day >= $3 AND day <= $4 AND counter = ANY($5) GROUP BY day;
