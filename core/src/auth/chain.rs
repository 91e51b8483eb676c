//! `DefaultAzureCredential`'s chain without IO: which links it has and in which order, which
//! link to ask next, the link it sticks with once one gave a token, and the error listing why
//! each link failed. Transports own the credentials and call them; a [`ChainRun`] tells them
//! which one to call:
//!
//! ```
//! # use kvcerts_core::auth::{AccessToken, ChainStep, CredentialChain};
//! # use kvcerts_core::Error;
//! # fn ask(_: &&str) -> Result<AccessToken, Error> { Err(Error::Authentication("no".into())) }
//! let chain = CredentialChain::new([("A", Ok("a")), ("B", Err(Error::Authentication("unset".into())))]);
//! let mut run = chain.run();
//! let mut step = run.start();
//! let result = loop {
//!     match step {
//!         ChainStep::Try(credential) => step = run.answer(ask(credential)),
//!         ChainStep::Done(result) => break result,
//!     }
//! };
//! assert!(result.unwrap_err().to_string().contains("\n- A: authentication failed: no\n- B: "));
//! ```

use std::sync::{Mutex, MutexGuard};

use super::environment::chain_failed;
use super::token::AccessToken;
use crate::error::Error;

/// A link of the default chain; [`DefaultLink::ALL`] is the order in which they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefaultLink {
    /// `EnvironmentCredential`: a service principal from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`
    /// and `AZURE_CLIENT_SECRET`.
    Environment,
    /// `WorkloadIdentityCredential`: a federated token file (`AZURE_FEDERATED_TOKEN_FILE`).
    WorkloadIdentity,
    /// `ManagedIdentityCredential`, configured by
    /// [`managed_identity_from_env`](super::environment::managed_identity_from_env).
    ManagedIdentity,
    /// `AzureCliCredential`: `az account get-access-token`.
    AzureCli,
}

impl DefaultLink {
    /// Every link, in the order the default chain tries them.
    pub const ALL: [DefaultLink; 4] =
        [DefaultLink::Environment, DefaultLink::WorkloadIdentity, DefaultLink::ManagedIdentity, DefaultLink::AzureCli];

    /// The link's name in `Debug` output and in the chain's error (the credential type's name).
    pub fn name(self) -> &'static str {
        match self {
            DefaultLink::Environment => "EnvironmentCredential",
            DefaultLink::WorkloadIdentity => "WorkloadIdentityCredential",
            DefaultLink::ManagedIdentity => "ManagedIdentityCredential",
            DefaultLink::AzureCli => "AzureCliCredential",
        }
    }
}

/// Named credentials tried in order; the first that gives a token is used from then on. A link
/// may hold the error of a credential that could not be configured (e.g. a missing environment
/// variable); it is skipped and its error is listed when every link failed. `C` is the
/// transport's credential (e.g. `Box<dyn TokenCredential>`); `Debug` shows only the names.
pub struct CredentialChain<C> {
    links: Vec<(&'static str, Result<C, Error>)>,
    chosen: Mutex<Option<usize>>,
}

impl<C> std::fmt::Debug for CredentialChain<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialChain").field("links", &self.names()).finish()
    }
}

/// Builds the default chain ([`CredentialChain::default_chain`]) from a transport's own
/// credential types, so the blocking and the async transport configure it alike. Expands to a
/// `CredentialChain<Box<dyn TokenCredential>>`.
///
/// The invoking module must have in scope its `TokenCredential` trait and its
/// `EnvironmentCredential` (`new() -> Result<_, Error>`), `WorkloadIdentityCredential`
/// (`from_env()`), `ManagedIdentityCredential` (`from_core(config, &ConnectionOptions)`),
/// `AzureCliCredential` (`new()`) and `ConnectionOptions` (`Default`). `$env` reads one
/// environment variable (`|name| std::env::var(name).ok()`): the transport reads the
/// environment, core reads none.
#[macro_export]
macro_rules! default_credential_chain {
    ($env:expr) => {{
        fn boxed(c: impl TokenCredential + 'static) -> Box<dyn TokenCredential> {
            Box::new(c)
        }
        $crate::auth::CredentialChain::default_chain(|link| match link {
            $crate::auth::DefaultLink::Environment => EnvironmentCredential::new().map(boxed),
            $crate::auth::DefaultLink::WorkloadIdentity => WorkloadIdentityCredential::from_env().map(boxed),
            $crate::auth::DefaultLink::ManagedIdentity => ManagedIdentityCredential::from_core(
                $crate::auth::environment::managed_identity_from_env($env),
                &ConnectionOptions::default(),
            )
            .map(boxed),
            $crate::auth::DefaultLink::AzureCli => Ok(boxed(AzureCliCredential::new())),
        })
    }};
}

impl<C> CredentialChain<C> {
    /// A chain of `links`: each a name and its credential, or why it could not be configured.
    pub fn new(links: impl IntoIterator<Item = (&'static str, Result<C, Error>)>) -> Self {
        CredentialChain { links: links.into_iter().collect(), chosen: Mutex::new(None) }
    }

    /// The default chain: `build` makes the credential of each [`DefaultLink`], in the order
    /// of [`DefaultLink::ALL`].
    pub fn default_chain(mut build: impl FnMut(DefaultLink) -> Result<C, Error>) -> Self {
        Self::new(DefaultLink::ALL.map(|link| (link.name(), build(link))))
    }

    /// The links' names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.links.iter().map(|(name, _)| *name).collect()
    }

    /// A run of the chain for one token request.
    pub fn run(&self) -> ChainRun<'_, C> {
        ChainRun { chain: self, trying: None, next: 0, reasons: Vec::new() }
    }

    fn chosen(&self) -> MutexGuard<'_, Option<usize>> {
        self.chosen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What the transport does next in a [`ChainRun`].
#[must_use]
pub enum ChainStep<'a, C> {
    /// Ask this credential for a token and give its answer to [`ChainRun::answer`].
    Try(&'a C),
    /// The chain's answer.
    Done(Result<AccessToken, Error>),
}

/// One token request through a [`CredentialChain`]: [`start`](ChainRun::start), then
/// [`answer`](ChainRun::answer) every [`ChainStep::Try`] until [`ChainStep::Done`].
///
/// The link the chain sticks with is asked alone, and its answer (token or error) is the
/// chain's. Otherwise every error passes on to the next link, and the first token makes its
/// link the one the chain sticks with; when every link failed, the error lists each one's
/// reason (`- Name: error`, one line each).
pub struct ChainRun<'a, C> {
    chain: &'a CredentialChain<C>,
    /// The link being asked, and whether it is the one the chain sticks with.
    trying: Option<(usize, bool)>,
    next: usize,
    reasons: Vec<String>,
}

impl<'a, C> std::fmt::Debug for ChainRun<'a, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainRun").field("trying", &self.trying).field("next", &self.next).finish()
    }
}

impl<'a, C> ChainRun<'a, C> {
    /// The first step: the link the chain sticks with, else the first configured link.
    pub fn start(&mut self) -> ChainStep<'a, C> {
        let chosen = *self.chain.chosen();
        if let Some(index) = chosen {
            if let Some((_, Ok(credential))) = self.chain.links.get(index) {
                self.trying = Some((index, true));
                return ChainStep::Try(credential);
            }
        }
        self.next_link()
    }

    /// The next step, given the answer of the credential of the last [`ChainStep::Try`].
    pub fn answer(&mut self, answer: Result<AccessToken, Error>) -> ChainStep<'a, C> {
        let Some((index, sticky)) = self.trying.take() else {
            return self.next_link();
        };
        match answer {
            Ok(token) => {
                *self.chain.chosen() = Some(index);
                ChainStep::Done(Ok(token))
            }
            Err(e) if sticky => ChainStep::Done(Err(e)),
            Err(e) => {
                self.reasons.push(format!("{}: {e}", self.chain.links[index].0));
                self.next_link()
            }
        }
    }

    fn next_link(&mut self) -> ChainStep<'a, C> {
        let links = &self.chain.links;
        while let Some((name, link)) = links.get(self.next) {
            let index = self.next;
            self.next += 1;
            match link {
                Ok(credential) => {
                    self.trying = Some((index, false));
                    return ChainStep::Try(credential);
                }
                Err(e) => self.reasons.push(format!("{name}: {e}")),
            }
        }
        ChainStep::Done(Err(chain_failed(&self.reasons)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn token(s: &str) -> AccessToken {
        AccessToken::new(s, OffsetDateTime::UNIX_EPOCH)
    }

    /// Runs the chain with links that answer from a table; returns the result and who was asked.
    fn drive(chain: &CredentialChain<&str>, answers: &[(&str, bool)]) -> (Result<AccessToken, Error>, Vec<String>) {
        let mut asked = Vec::new();
        let mut run = chain.run();
        let mut step = run.start();
        loop {
            match step {
                ChainStep::Try(c) => {
                    asked.push(c.to_string());
                    let ok = answers.iter().any(|(n, ok)| n == c && *ok);
                    step = run.answer(if ok { Ok(token(c)) } else { Err(Error::Authentication(format!("{c} down"))) });
                }
                ChainStep::Done(result) => return (result, asked),
            }
        }
    }

    #[test]
    fn default_links_match_the_documented_order() {
        let order =
            ["EnvironmentCredential", "WorkloadIdentityCredential", "ManagedIdentityCredential", "AzureCliCredential"];
        assert_eq!(DefaultLink::ALL.map(DefaultLink::name), order);
        let chain = CredentialChain::default_chain(Ok::<_, Error>);
        assert_eq!(chain.names(), order);
        assert_eq!(format!("{chain:?}"), format!("CredentialChain {{ links: {order:?} }}"));
    }

    #[test]
    fn first_token_wins_and_sticks() {
        let chain =
            CredentialChain::new([("A", Err(Error::Authentication("unset".into()))), ("B", Ok("b")), ("C", Ok("c"))]);
        let (result, asked) = drive(&chain, &[("c", true)]);
        assert_eq!(result.unwrap().secret(), "c");
        assert_eq!(asked, ["b", "c"]);
        // From now on only C is asked, and its error is the chain's, unchanged.
        let (result, asked) = drive(&chain, &[("b", true)]);
        assert_eq!(result.unwrap_err().to_string(), "authentication failed: c down");
        assert_eq!(asked, ["c"]);
    }

    #[test]
    fn all_failed_lists_each_reason_in_order() {
        let chain = CredentialChain::new([("A", Ok("a")), ("B", Err(Error::Authentication("unset".into())))]);
        let (result, asked) = drive(&chain, &[]);
        assert_eq!(asked, ["a"]);
        assert_eq!(
            result.unwrap_err().to_string(),
            "authentication failed: no credential in the chain gave a token:\n\
             - A: authentication failed: a down\n- B: authentication failed: unset"
        );
        // Nothing was chosen: the next run asks A again.
        assert_eq!(drive(&chain, &[("a", true)]).1, ["a"]);
        let empty = CredentialChain::<&str>::new([]);
        assert!(matches!(empty.run().start(), ChainStep::Done(Err(_))));
    }
}
