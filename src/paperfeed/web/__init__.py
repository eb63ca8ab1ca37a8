"""The web face: FastAPI routes that translate HTTP to PaperFeed calls and back."""
