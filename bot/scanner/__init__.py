"""Read C text into a migration model (VMSDs, compat arrays, properties...)."""
