"""UTM campaign reports: campaigns, top sources and mediums, and a daily series for one source."""
