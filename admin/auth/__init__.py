"""Admin's built-in authorization server and the guard that makes every RPC and REST call present a token.

keys.py (the signing key and its JWKS), passwords.py (client secrets at rest), tokens.py (issuing and
verifying access tokens), external.py (an OpenID Connect provider's tokens), principal.py (who is calling, for
the request being served), server.py (the OAuth2 endpoints on admin's HTTP port), guard.py (the gRPC
interceptor and the REST check), authorization.py (roles per project and domain, the audit log), clients.py
(service clients in admin's database), task_tokens.py (tokens for task processes), console_login.py (the
console's login through the provider).
"""
