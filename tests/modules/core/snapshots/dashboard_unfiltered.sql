SELECT count(DISTINCT visitor_no) FROM ( SELECT visitor_no FROM pageviews WHERE project_id = $1 AND ts > $2 UNION ALL SELECT visitor_no FROM events WHERE project_id = $1 AND ts > $2) recent;

SELECT day, dimension, value, pageviews, sessions, bounces, duration, events, time_on_page, time_on_page_views, visitors FROM daily_rollups WHERE project_id = $1 AND dimension = ANY($2) AND day BETWEEN $3 AND $4;
