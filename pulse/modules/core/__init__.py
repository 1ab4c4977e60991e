"""Core analytics: stats, timeseries, pages, referrers, events, devices, geo, realtime."""
