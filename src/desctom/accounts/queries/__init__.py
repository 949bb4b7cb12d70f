"""Broker-account bindings."""
