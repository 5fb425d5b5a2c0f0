"""Authentication at the edge: login sessions (cookies), CSRF, login
throttling, the server secret, and the middleware that turns a request's
credentials into a Principal. Passwords and API tokens themselves are
accounts'; the principal and roles are db's (every scoped query needs them).

An edge package: may import accounts, db and the contract modules."""
