"""The HTTP API (FastAPI). HTTP code lives here only; routers call the core."""
