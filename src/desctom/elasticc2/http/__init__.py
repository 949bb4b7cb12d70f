"""HTTP layer of the ELAsTiCC2 app: JSON/REST endpoints (api/) and HTML pages (pages/)."""
