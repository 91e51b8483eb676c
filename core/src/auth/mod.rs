//! Authentication: bearer challenges, tokens, token caching and token requests for HTTP-based credentials.
