"""Admin webhooks: subscriptions to traffic_spike, zero_traffic and daily_summary, and a signed
test delivery. The first user of pulse.definitions and pulse.outbound (see docs/webhooks.md)."""
