"""JSON API v1 (DESIGN.md section 7). Its URLs are listed in routes.py.

An edge package: may import the domain packages below it (chunks/reader
through keys.READER, accounts, privacy, db) and the contract modules."""
