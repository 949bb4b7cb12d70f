"""SQL for scientists: the fast query API, the long-query queue and runner (reference §1.3, §2.3, §3.7)."""
