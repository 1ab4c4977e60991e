"""Ingestion: collect payloads, enrich them, buffer them in Redis, write them in batches."""
