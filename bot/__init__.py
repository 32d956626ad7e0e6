"""migbot: review QEMU patches for live-migration compatibility."""

__version__ = "0.2.0"
