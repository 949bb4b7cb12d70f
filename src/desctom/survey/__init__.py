"""The survey's shared facts and formats: LSST columns and bands, taxonomy, MJD, Avro schemas,
Kafka helpers."""
