"""The alert sender (desctom send_elasticc2_alerts): service, Avro builders, simulation clock."""
