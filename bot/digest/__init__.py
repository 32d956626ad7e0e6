"""The weekly digest of migration-affecting changes: build, render, publish, schedule."""
