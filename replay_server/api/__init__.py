"""JSON API v1 (DESIGN.md section 7). Its URLs are listed in routes.py."""
