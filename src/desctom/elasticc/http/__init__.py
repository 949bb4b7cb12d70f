"""HTTP layer of the ELAsTiCC 1 archive: JSON/REST endpoints (api/) and pages."""
