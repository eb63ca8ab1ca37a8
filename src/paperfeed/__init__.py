"""paperfeed: a self-hosted daily papers feed."""

__version__ = "0.1.0"
