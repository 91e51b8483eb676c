//! Async Azure Key Vault Certificates client on hyper.
