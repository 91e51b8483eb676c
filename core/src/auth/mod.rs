//! Authentication: bearer challenges, tokens, token caching and token requests for HTTP-based
//! credentials.
//!
//! - [`challenge`]: the `WWW-Authenticate` parser, Key Vault and CAE challenges, and
//!   [`verify_challenge_resource`].
//! - [`token`]: [`AccessToken`] (redacted in `Debug`), [`TokenRequest`] and [`TokenCache`].
//! - [`session`]: the [`Session`] every flow of a client shares (challenge cache, token cache,
//!   single-flight probes and token fetches) and its contract for transports.
//! - [`identity`]: token requests for client secret, managed identity (IMDS, App Service) and
//!   workload identity credentials, built and parsed here, sent by the transport through a
//!   [`TokenFlow`].
//! - [`CredentialChain`]: `DefaultAzureCredential`'s chain (links, order, the link it sticks
//!   with, the combined error); [`environment`] and [`azure_cli`]: the other IO-free parts of
//!   the transports' credentials.

pub mod azure_cli;
mod chain;
pub mod challenge;
pub mod environment;
pub mod identity;
pub mod session;
pub mod token;
mod token_flow;

pub use chain::{ChainRun, ChainStep, CredentialChain, DefaultLink};
pub use challenge::{
    challenges_in, claims_challenge, parse_www_authenticate, tenant_from_authority, verify_challenge_resource,
    AuthChallenge, Challenge,
};
pub use identity::{
    AuthorityHost, ClientSecretCredential, IdentityEndpoint, IdentityError, ManagedIdentityCredential,
    ManagedIdentitySource, UserAssignedId, WorkloadIdentityCredential,
};
pub use session::{Session, SessionOptions};
pub use token::{AccessToken, TokenCache, TokenLookup, TokenRequest};
pub use token_flow::TokenFlow;
