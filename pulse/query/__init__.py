"""Report building blocks: date ranges, filters, rollup reads."""
