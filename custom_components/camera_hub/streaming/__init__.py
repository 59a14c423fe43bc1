"""Vendor-neutral video plumbing: cached stream URIs and (later) the shared frame hub."""
