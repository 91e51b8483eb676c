//! A local Azure Key Vault certificates service for tests and examples.
