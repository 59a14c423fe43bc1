"""MCP bridge tests: tool functions against a real `hass`, FastMCP in memory, stdio and HTTP subprocesses."""
