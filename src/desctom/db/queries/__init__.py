"""Running users' SQL safely: execution, export, schema, slots."""
