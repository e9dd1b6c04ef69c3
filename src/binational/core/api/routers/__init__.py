"""HTTP routers: thin handlers that parse, call the core, and shape the answer."""
