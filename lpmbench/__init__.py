"""lpmbench: open evaluation harness for interactive character performance video generators."""
__version__ = "0.1.0"
