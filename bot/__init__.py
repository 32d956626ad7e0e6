"""migbot: review QEMU patches for live-migration compatibility."""

__version__ = "0.1.0"
