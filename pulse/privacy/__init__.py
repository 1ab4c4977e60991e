"""Per-project privacy controls: what ingestion keeps, drops and anonymizes."""
