"""Background services of ELAsTiCC2: sender, broker poller, broker store, source updater, fake broker,
demo."""
