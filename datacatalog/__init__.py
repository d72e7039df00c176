"""DataCatalog: datasets, artifacts, tags and reservations behind task caching.

`start_datacatalog(config)` serves the `datacatalog.DataCatalog` gRPC service (flyteidl 1.16)
with health and reflection; `flyteplane serve datacatalog` runs it, `flyteplane migrate` creates
its schema. Records live in SQL (SQLite or PostgreSQL), artifact values in the object store.
"""
