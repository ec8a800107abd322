"""The ingest worker and the state it owns: state hub, feed health, KPIs."""
