"""Admin's built-in authorization server and the guard that makes every RPC and REST call present a token.

keys.py (the signing key and its JWKS), passwords.py (client secrets at rest), tokens.py (issuing and
verifying access tokens), external.py (an OpenID Connect provider: its tokens, and a person's login there),
principal.py (who is calling, for the request being served), oauth.py (RFC 6749 errors and request parsing),
server.py (the OAuth2 token, revocation and JWKS endpoints on admin's HTTP port), people.py (people's logins at
the built-in server: authorization code with PKCE and the device flow, their identity from the provider),
grants.py (people's access and refresh tokens: rotation, revocation), signed.py (a login's state in a signed
cookie), guard.py (the gRPC interceptor and the REST check), authorization.py (roles per project and domain, the
audit log), clients.py (service clients in admin's database), task_tokens.py (tokens for task processes),
console_login.py (the console's login through the provider).
"""
