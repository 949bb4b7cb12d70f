"""HTML pages of the ELAsTiCC2 app (one module per page group)."""
