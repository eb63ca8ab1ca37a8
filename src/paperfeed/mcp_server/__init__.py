"""The MCP face: paperfeed's papers as tools for AI assistants (the official ``mcp`` SDK).

``paperfeed mcp`` serves them over stdio; the web app serves them at ``/mcp`` (streamable
HTTP). Like the web and the CLI, this face only translates: each tool is one PaperFeed call.
"""
