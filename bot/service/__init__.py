"""The webhook service: intake, health, metrics and the background worker."""
