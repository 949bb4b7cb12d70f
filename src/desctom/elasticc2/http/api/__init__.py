"""JSON and REST endpoints of /elasticc2/, one module per resource group."""
