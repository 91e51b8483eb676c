//! Sans-IO protocol core for the Azure Key Vault Certificates REST API.
