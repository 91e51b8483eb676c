//! Blocking Azure Key Vault Certificates client on ureq.
