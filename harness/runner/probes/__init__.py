"""runner/probes."""
