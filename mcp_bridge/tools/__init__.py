"""Tool logic as plain async functions, each taking the `HAClient` first; `server.py` wires them to MCP."""
