"""What Pulse serves to browsers: the tracking script and the dashboard."""
