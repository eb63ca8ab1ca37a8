"""Search: embeddings, vector index, keyword and hybrid retrieval."""
