//! Pagers: follow `nextLink` page after page.
//!
//! A [`Pager`] is a [`Flow`] whose every run yields the next page: drive it to `Done(Ok(Some(page)))`,
//! use the page, drive it again; `Done(Ok(None))` means there are no more pages. The link is
//! followed exactly as the service gave it (its `$skiptoken`, `maxresults` and `api-version`
//! kept); a null, missing or empty `nextLink` ends the list; a link to another scheme, host or
//! port is refused (the token would follow it). [`Pager::continuation`] is the link of the
//! next page, and [`Pager::resume`] starts from such a link.

use std::marker::PhantomData;

use http::Request;
use serde::de::DeserializeOwned;

use super::exchange::Engine;
use super::retry::RetryOptions;
use super::step::{already_done, unexpected_input, Input, Now, Step};
use super::Flow;
use crate::auth::Session;
use crate::error::Error;
use crate::models::{CertificateProperties, DeletedCertificateProperties, IssuerProperties, Page};
use crate::operation::Operation;
use crate::requests::ListOptions;
use crate::response;
use crate::vault::Vault;

enum Next {
    First(Box<Request<Vec<u8>>>),
    Link(String),
    End,
}

/// Pages of a list operation. Every run of the driver loop yields the next page:
/// `Done(Ok(Some(page)))`, then `Done(Ok(None))` after the last. `nextLink` is followed exactly
/// as given; a null, missing or empty one ends the list; a link to another scheme, host or port
/// is refused. [`Pager::continuation`] is the next page's link, and [`Pager::resume`] starts
/// from one.
pub struct Pager<T> {
    session: Session,
    vault: Vault,
    operation: Operation,
    retry: RetryOptions,
    next: Next,
    current: Option<(Engine, Option<String>)>,
    pages: u32,
    failed: bool,
    _items: PhantomData<fn() -> T>,
}

impl<T> Pager<T> {
    fn new(session: &Session, vault: &Vault, operation: Operation, retry: &RetryOptions, next: Next) -> Self {
        Pager {
            session: session.clone(),
            vault: vault.clone(),
            operation,
            retry: retry.clone(),
            next,
            current: None,
            pages: 0,
            failed: false,
            _items: PhantomData,
        }
    }

    /// The link of the next page to fetch (`None` before the first page and after the last).
    pub fn continuation(&self) -> Option<&str> {
        match (&self.current, &self.next) {
            (Some((_, link)), _) => link.as_deref(),
            (None, Next::Link(link)) => Some(link),
            _ => None,
        }
    }

    /// Whether every page was returned (or the pager failed).
    pub fn is_done(&self) -> bool {
        self.failed || (self.current.is_none() && matches!(self.next, Next::End))
    }

    /// How many pages were returned.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// The list operation.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The most steps one run (one page) takes with a driver that answers every step.
    pub fn max_steps_per_page(&self) -> u32 {
        super::exchange::engine_max_steps(&self.session, &self.retry).saturating_add(2)
    }

    /// Resumes the list `operation` from a `nextLink` (e.g. [`Pager::continuation`] saved
    /// earlier). A link outside the vault, an `operation` that is not a list, and a link of
    /// another list (deleted certificates resumed as certificates, say) are refused.
    pub fn resume(
        session: &Session,
        vault: &Vault,
        operation: Operation,
        next_link: &str,
        retry: &RetryOptions,
    ) -> Result<Self, Error>
    where
        T: DeserializeOwned,
    {
        if !LISTS.contains(&operation) {
            return Err(Error::Misuse(format!(
                "{} is not a list operation; only a list resumes",
                operation.python_name()
            )));
        }
        let (request, _) = vault.next_page::<T>(operation, next_link)?.into_parts();
        // Only a link that is recognisably another list's is refused: the service's own links
        // are passed on as they are.
        match Operation::identify(request.method(), request.uri().path()) {
            Some((other, _)) if other != operation && LISTS.contains(&other) => Err(Error::invalid(
                "continuation",
                format!("the link continues {}, not {}", other.python_name(), operation.python_name()),
            )),
            _ => Ok(Pager::new(session, vault, operation, retry, Next::Link(next_link.to_owned()))),
        }
    }
}

/// The list operations, which page.
const LISTS: [Operation; 4] = [
    Operation::ListPropertiesOfCertificates,
    Operation::ListPropertiesOfCertificateVersions,
    Operation::ListDeletedCertificates,
    Operation::ListPropertiesOfIssuers,
];

impl Pager<CertificateProperties> {
    /// `list_properties_of_certificates` (`maxresults` ≤ 25, `includePending`).
    pub fn list_properties_of_certificates(
        session: &Session,
        vault: &Vault,
        options: &ListOptions,
        retry: &RetryOptions,
    ) -> Result<Self, Error> {
        let call = vault.list_properties_of_certificates(options)?;
        Ok(Pager::new(session, vault, call.operation(), retry, Next::First(Box::new(call.into_parts().0))))
    }

    /// `list_properties_of_certificate_versions`.
    pub fn list_properties_of_certificate_versions(
        session: &Session,
        vault: &Vault,
        name: &str,
        options: &ListOptions,
        retry: &RetryOptions,
    ) -> Result<Self, Error> {
        let call = vault.list_properties_of_certificate_versions(name, options)?;
        Ok(Pager::new(session, vault, call.operation(), retry, Next::First(Box::new(call.into_parts().0))))
    }
}

impl Pager<DeletedCertificateProperties> {
    /// `list_deleted_certificates` (`maxresults` ≤ 25, `includePending`).
    pub fn list_deleted_certificates(
        session: &Session,
        vault: &Vault,
        options: &ListOptions,
        retry: &RetryOptions,
    ) -> Result<Self, Error> {
        let call = vault.list_deleted_certificates(options)?;
        Ok(Pager::new(session, vault, call.operation(), retry, Next::First(Box::new(call.into_parts().0))))
    }
}

impl Pager<IssuerProperties> {
    /// `list_properties_of_issuers`.
    pub fn list_properties_of_issuers(
        session: &Session,
        vault: &Vault,
        options: &ListOptions,
        retry: &RetryOptions,
    ) -> Result<Self, Error> {
        let call = vault.list_properties_of_issuers(options)?;
        Ok(Pager::new(session, vault, call.operation(), retry, Next::First(Box::new(call.into_parts().0))))
    }
}

impl<T: DeserializeOwned> Pager<T> {
    fn fail(&mut self, e: Error) -> Step<Option<Page<T>>> {
        self.failed = true;
        self.current = None;
        self.next = Next::End;
        Step::Done(Err(e))
    }

    fn on_page(&mut self, link: Option<String>, response: http::Response<Vec<u8>>) -> Step<Option<Page<T>>> {
        let page: Page<T> = match response::json(self.operation, &response) {
            Ok(page) => page,
            Err(e) => return self.fail(e),
        };
        self.pages += 1;
        self.next = match page.continuation() {
            Some(next) if link.as_deref() == Some(next) => {
                return self.fail(Error::unexpected(
                    response.status(),
                    format!("the nextLink {next:?} points at the page just read; stopping to avoid a loop"),
                    b"",
                ));
            }
            Some(next) => Next::Link(next.to_owned()),
            None => Next::End,
        };
        Step::Done(Ok(Some(page)))
    }
}

impl<T: DeserializeOwned> Flow for Pager<T> {
    type Output = Option<Page<T>>;

    fn step(&mut self, now: Now, input: Option<Input>) -> Step<Option<Page<T>>> {
        if self.failed {
            return Step::Done(Err(already_done()));
        }
        if self.current.is_none() {
            if let Some(other) = input.filter(|i| !matches!(i, Input::Woke)) {
                return self.fail(unexpected_input("no input on the first step of a page", &other));
            }
            let (request, link) = match std::mem::replace(&mut self.next, Next::End) {
                Next::End => return Step::Done(Ok(None)),
                Next::First(request) => (*request, None),
                Next::Link(link) => match self.vault.next_page::<T>(self.operation, &link) {
                    Ok(call) => (call.into_parts().0, Some(link)),
                    Err(e) => return self.fail(e),
                },
            };
            self.current = Some((Engine::new(&self.session, request, &self.retry), link));
            return self.step_current(now, None);
        }
        self.step_current(now, input)
    }
}

impl<T: DeserializeOwned> Pager<T> {
    fn step_current(&mut self, now: Now, input: Option<Input>) -> Step<Option<Page<T>>> {
        let Some((engine, _)) = self.current.as_mut() else {
            return Step::Done(Err(already_done()));
        };
        match engine.step(now, input).pending() {
            Ok(step) => step,
            Err(result) => {
                let link = self.current.take().and_then(|(_, link)| link);
                match result {
                    Ok(response) => self.on_page(link, response),
                    Err(e) => self.fail(e),
                }
            }
        }
    }
}

impl<T> std::fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager")
            .field("operation", &self.operation)
            .field("pages", &self.pages)
            .field("continuation", &self.continuation())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Challenge;
    use crate::flows::scenario::{response, Driver};
    use crate::ErrorKind;

    const V: &str = "https://REDACTED.vault.azure.net";

    fn session() -> Session {
        let s = Session::default();
        s.preseed_challenge(V, Challenge::new("https://vault.azure.net/.default", None)).unwrap();
        s
    }

    fn page(ids: &[&str], next: Option<&str>) -> String {
        let items: Vec<String> = ids
            .iter()
            .map(|id| format!(r#"{{"id":"https://REDACTED.vault.azure.net/certificates/{id}","attributes":{{"enabled":true}},"tags":{{}},"subject":""}}"#))
            .collect();
        let next = next.map(|n| format!("\"{n}\"")).unwrap_or_else(|| "null".into());
        format!(r#"{{"value":[{}],"nextLink":{next}}}"#, items.join(","))
    }

    #[test]
    fn follows_next_links_exactly_and_stops_on_null() {
        let session = session();
        let vault = Vault::new(V).unwrap();
        let link = "https://REDACTED.vault.azure.net:443/certificates?api-version=7.3&$skiptoken=eyJOZXh0TWFya2VyIjoiMiEx&maxresults=2";
        let mut pager = Pager::list_properties_of_certificates(
            &session,
            &vault,
            &ListOptions::default().max_page_size(2).include_pending(true),
            &RetryOptions::default(),
        )
        .unwrap();
        let mut d = Driver::new([
            response(200, &[], &page(&["a", "b"], Some(link))).into(),
            response(200, &[], &page(&["c"], None)).into(),
        ]);
        let first = d.run(&mut pager).unwrap().unwrap();
        assert_eq!(first.value.len(), 2);
        assert_eq!(pager.continuation(), Some(link));
        assert_eq!(d.sent[0].uri().query(), Some("api-version=2026-04-01&maxresults=2&includePending=true"));
        let second = d.run(&mut pager).unwrap().unwrap();
        assert_eq!(second.value.len(), 1);
        assert_eq!(
            d.sent[1].uri(),
            "https://redacted.vault.azure.net/certificates?api-version=7.3&$skiptoken=eyJOZXh0TWFya2VyIjoiMiEx&maxresults=2"
        );
        assert!(pager.is_done());
        assert!(d.run(&mut pager).unwrap().is_none());
        assert_eq!(pager.pages(), 2);
    }

    #[test]
    fn recorded_single_page_with_null_next_link() {
        // cpp-KeyVaultCertificateClientTest.GetPropertiesOfIssuers.json, entry 2.
        let body = r#"{"value": [{"id": "https://REDACTED.vault.azure.net/certificates/issuers/issuer01", "provider": "Test"}, {"id": "https://REDACTED.vault.azure.net/certificates/issuers/issuer02", "provider": "Test"}], "nextLink": null}"#;
        let session = session();
        let vault = Vault::new(V).unwrap();
        let mut pager =
            Pager::list_properties_of_issuers(&session, &vault, &ListOptions::default(), &RetryOptions::default())
                .unwrap();
        let mut d = Driver::new([response(200, &[], body).into()]);
        assert_eq!(d.run(&mut pager).unwrap().unwrap().value.len(), 2);
        assert!(d.run(&mut pager).unwrap().is_none());
        let missing = r#"{"value": []}"#;
        let mut pager =
            Pager::list_deleted_certificates(&session, &vault, &ListOptions::default(), &RetryOptions::default())
                .unwrap();
        let mut d = Driver::new([response(200, &[], missing).into()]);
        assert!(d.run(&mut pager).unwrap().unwrap().value.is_empty());
        assert!(pager.is_done());
    }

    #[test]
    fn foreign_next_links_are_refused() {
        let session = session();
        let vault = Vault::new(V).unwrap();
        let mut pager =
            Pager::list_properties_of_certificates(&session, &vault, &ListOptions::default(), &RetryOptions::default())
                .unwrap();
        let mut d =
            Driver::new([response(200, &[], &page(&["a"], Some("https://evil.example/certificates?x=1"))).into()]);
        assert!(d.run(&mut pager).unwrap().is_some());
        let err = d.run(&mut pager).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Security);
        assert_eq!(d.sent.len(), 1);
        assert!(Pager::<CertificateProperties>::resume(
            &session,
            &vault,
            Operation::ListPropertiesOfCertificates,
            "https://redacted.vault.azure.net.evil.example/certificates",
            &RetryOptions::default()
        )
        .is_err());
    }

    #[test]
    fn a_link_resumes_only_its_own_list() {
        let session = session();
        let vault = Vault::new(V).unwrap();
        let resume = |operation, link: &str| {
            Pager::<CertificateProperties>::resume(&session, &vault, operation, link, &RetryOptions::default())
        };
        let deleted = "https://REDACTED.vault.azure.net/deletedcertificates?api-version=7.5&$skiptoken=x";
        let versions = "https://REDACTED.vault.azure.net/certificates/c/versions?api-version=7.5&$skiptoken=x";
        let issuers = "https://REDACTED.vault.azure.net/certificates/issuers?api-version=7.5&$skiptoken=x";
        let err = resume(Operation::ListPropertiesOfCertificates, deleted).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("list_deleted_certificates"), "{err}");
        assert!(resume(Operation::ListPropertiesOfCertificates, versions).is_err());
        assert!(resume(Operation::ListPropertiesOfCertificateVersions, issuers).is_err());
        assert!(resume(Operation::ListDeletedCertificates, versions).is_err());
        // Each list's own link resumes it; a path no route knows is passed on as the service gave it.
        assert!(resume(Operation::ListDeletedCertificates, deleted).is_ok());
        assert!(resume(Operation::ListPropertiesOfCertificateVersions, versions).is_ok());
        assert!(resume(Operation::ListPropertiesOfIssuers, issuers).is_ok());
        let unknown = "https://REDACTED.vault.azure.net/pages/next?token=1";
        assert!(resume(Operation::ListPropertiesOfCertificates, unknown).is_ok());
        // Only a list resumes.
        let err = resume(Operation::GetCertificate, versions).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Misuse, "{err}");
    }

    #[test]
    fn resumes_from_a_next_link_and_detects_loops() {
        let session = session();
        let vault = Vault::new(V).unwrap();
        let link = "https://REDACTED.vault.azure.net/certificates/c/versions?api-version=7.3&$skiptoken=x";
        let mut pager = Pager::<CertificateProperties>::resume(
            &session,
            &vault,
            Operation::ListPropertiesOfCertificateVersions,
            link,
            &RetryOptions::default(),
        )
        .unwrap();
        assert_eq!(pager.continuation(), Some(link));
        let mut d = Driver::new([response(200, &[], &page(&["a"], Some(link))).into()]);
        assert_eq!(d.run(&mut pager).unwrap_err().kind(), ErrorKind::UnexpectedResponse);
    }
}
