"""The web app: self-check page, scheme catalogue, calculator tools and the JSON API (FastAPI + Jinja2 + htmx)."""
