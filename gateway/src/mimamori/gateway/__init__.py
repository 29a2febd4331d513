"""gateway: the API's front door. OIDC tokens, purpose-of-use policy, signed internal context, audit of every
decision; it owns nothing personal."""
