"""The long-query runner and the database roles users' SQL runs as."""
