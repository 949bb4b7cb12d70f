"""JSON and REST endpoints of /elasticc/."""
