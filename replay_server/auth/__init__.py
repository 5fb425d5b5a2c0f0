"""Authentication: passwords, API tokens, login sessions, CSRF and the middleware
that turns a request's credentials into a Principal."""
