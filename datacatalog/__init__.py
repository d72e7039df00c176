"""DataCatalog: datasets, artifacts, tags and reservations behind task caching."""
