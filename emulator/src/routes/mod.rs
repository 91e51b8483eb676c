//! Routing: which operation a method and path name, and the request context and reply that
//! every operation handler shares.

mod backup;
mod certificates;
mod contacts;
mod deleted;
mod issuers;
mod operations;
mod paging;
mod secrets;

use bytes::Bytes;
use http::{HeaderName, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api_error::ApiError;
use crate::app::App;

/// A Key Vault operation (or admin route) identified from method and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /certificates/{name}/create`
    CreateCertificate(String),
    /// `POST /certificates/{name}/import`
    ImportCertificate(String),
    /// `GET /certificates/{name}[/{version}]`
    GetCertificate(String, Option<String>),
    /// `PATCH /certificates/{name}[/{version}]`
    UpdateCertificate(String, Option<String>),
    /// `DELETE /certificates/{name}`
    DeleteCertificate(String),
    /// `GET /certificates`
    ListCertificates,
    /// `GET /certificates/{name}/versions`
    ListCertificateVersions(String),
    /// `GET /certificates/{name}/policy`
    GetCertificatePolicy(String),
    /// `PATCH /certificates/{name}/policy`
    UpdateCertificatePolicy(String),
    /// `GET /certificates/{name}/pending`
    GetCertificateOperation(String),
    /// `PATCH /certificates/{name}/pending`
    CancelCertificateOperation(String),
    /// `DELETE /certificates/{name}/pending`
    DeleteCertificateOperation(String),
    /// `POST /certificates/{name}/pending/merge`
    MergeCertificate(String),
    /// `POST /certificates/{name}/backup`
    BackupCertificate(String),
    /// `POST /certificates/restore`
    RestoreCertificate,
    /// `GET /deletedcertificates`
    ListDeletedCertificates,
    /// `GET /deletedcertificates/{name}`
    GetDeletedCertificate(String),
    /// `DELETE /deletedcertificates/{name}`
    PurgeDeletedCertificate(String),
    /// `POST /deletedcertificates/{name}/recover`
    RecoverDeletedCertificate(String),
    /// `PUT /certificates/contacts`
    SetContacts,
    /// `GET /certificates/contacts`
    GetContacts,
    /// `DELETE /certificates/contacts`
    DeleteContacts,
    /// `GET /certificates/issuers`
    ListIssuers,
    /// `PUT /certificates/issuers/{name}`
    SetIssuer(String),
    /// `PATCH /certificates/issuers/{name}`
    UpdateIssuer(String),
    /// `GET /certificates/issuers/{name}`
    GetIssuer(String),
    /// `DELETE /certificates/issuers/{name}`
    DeleteIssuer(String),
    /// `GET /secrets/{name}[/{version}]`
    GetSecret(String, Option<String>),
    /// `/_emulator/*`
    Admin(String),
    /// A known path with an unsupported method.
    MethodNotAllowed,
    /// Anything else.
    Unknown,
}

impl Route {
    /// Identifies the route of a request.
    pub fn parse(method: &Method, path: &str) -> Route {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let segs: Vec<&str> = trimmed.split('/').collect();
        let m = method;
        let s = |x: &str| x.to_string();
        let ver = |v: &str| (!v.is_empty()).then(|| v.to_string());
        use Route::*;
        match segs.as_slice() {
            ["_emulator", rest @ ..] => Admin(rest.join("/")),
            ["certificates"] | ["certificates", ""] => match *m {
                Method::GET => ListCertificates,
                _ => MethodNotAllowed,
            },
            ["certificates", "contacts"] => match *m {
                Method::PUT => SetContacts,
                Method::GET => GetContacts,
                Method::DELETE => DeleteContacts,
                _ => MethodNotAllowed,
            },
            ["certificates", "issuers"] | ["certificates", "issuers", ""] => match *m {
                Method::GET => ListIssuers,
                _ => MethodNotAllowed,
            },
            ["certificates", "issuers", n] => match *m {
                Method::PUT => SetIssuer(s(n)),
                Method::PATCH => UpdateIssuer(s(n)),
                Method::GET => GetIssuer(s(n)),
                Method::DELETE => DeleteIssuer(s(n)),
                _ => MethodNotAllowed,
            },
            ["certificates", "restore"] => match *m {
                Method::POST => RestoreCertificate,
                _ => MethodNotAllowed,
            },
            ["certificates", n] => match *m {
                Method::GET => GetCertificate(s(n), None),
                Method::PATCH => UpdateCertificate(s(n), None),
                Method::DELETE => DeleteCertificate(s(n)),
                _ => MethodNotAllowed,
            },
            ["certificates", n, "create"] if *m == Method::POST => CreateCertificate(s(n)),
            ["certificates", n, "import"] if *m == Method::POST => ImportCertificate(s(n)),
            ["certificates", n, "backup"] if *m == Method::POST => BackupCertificate(s(n)),
            ["certificates", n, "versions"] if *m == Method::GET => ListCertificateVersions(s(n)),
            ["certificates", n, "policy"] => match *m {
                Method::GET => GetCertificatePolicy(s(n)),
                Method::PATCH => UpdateCertificatePolicy(s(n)),
                _ => MethodNotAllowed,
            },
            ["certificates", n, "pending"] => match *m {
                Method::GET => GetCertificateOperation(s(n)),
                Method::PATCH => CancelCertificateOperation(s(n)),
                Method::DELETE => DeleteCertificateOperation(s(n)),
                _ => MethodNotAllowed,
            },
            ["certificates", n, "pending", "merge"] => match *m {
                Method::POST => MergeCertificate(s(n)),
                _ => MethodNotAllowed,
            },
            ["certificates", n, v] => match *m {
                Method::GET => GetCertificate(s(n), ver(v)),
                Method::PATCH => UpdateCertificate(s(n), ver(v)),
                _ => MethodNotAllowed,
            },
            ["deletedcertificates"] | ["deletedcertificates", ""] => match *m {
                Method::GET => ListDeletedCertificates,
                _ => MethodNotAllowed,
            },
            ["deletedcertificates", n] => match *m {
                Method::GET => GetDeletedCertificate(s(n)),
                Method::DELETE => PurgeDeletedCertificate(s(n)),
                _ => MethodNotAllowed,
            },
            ["deletedcertificates", n, "recover"] => match *m {
                Method::POST => RecoverDeletedCertificate(s(n)),
                _ => MethodNotAllowed,
            },
            ["secrets", n] => match *m {
                Method::GET => GetSecret(s(n), None),
                _ => MethodNotAllowed,
            },
            ["secrets", n, v] => match *m {
                Method::GET => GetSecret(s(n), ver(v)),
                _ => MethodNotAllowed,
            },
            _ => Unknown,
        }
    }

    /// The operation name used in statistics and fault filters.
    pub fn name(&self) -> &'static str {
        use Route::*;
        match self {
            CreateCertificate(_) => "CreateCertificate",
            ImportCertificate(_) => "ImportCertificate",
            GetCertificate(_, _) => "GetCertificate",
            UpdateCertificate(_, _) => "UpdateCertificate",
            DeleteCertificate(_) => "DeleteCertificate",
            ListCertificates => "ListCertificates",
            ListCertificateVersions(_) => "ListCertificateVersions",
            GetCertificatePolicy(_) => "GetCertificatePolicy",
            UpdateCertificatePolicy(_) => "UpdateCertificatePolicy",
            GetCertificateOperation(_) => "GetCertificateOperation",
            CancelCertificateOperation(_) => "CancelCertificateOperation",
            DeleteCertificateOperation(_) => "DeleteCertificateOperation",
            MergeCertificate(_) => "MergeCertificate",
            BackupCertificate(_) => "BackupCertificate",
            RestoreCertificate => "RestoreCertificate",
            ListDeletedCertificates => "ListDeletedCertificates",
            GetDeletedCertificate(_) => "GetDeletedCertificate",
            PurgeDeletedCertificate(_) => "PurgeDeletedCertificate",
            RecoverDeletedCertificate(_) => "RecoverDeletedCertificate",
            SetContacts => "SetContacts",
            GetContacts => "GetContacts",
            DeleteContacts => "DeleteContacts",
            ListIssuers => "ListIssuers",
            SetIssuer(_) => "SetIssuer",
            UpdateIssuer(_) => "UpdateIssuer",
            GetIssuer(_) => "GetIssuer",
            DeleteIssuer(_) => "DeleteIssuer",
            GetSecret(_, _) => "GetSecret",
            Admin(_) => "Admin",
            MethodNotAllowed => "MethodNotAllowed",
            Unknown => "Unknown",
        }
    }

    /// True for routes that change the vault (the state file is written after them).
    pub fn mutates(&self) -> bool {
        use Route::*;
        !matches!(
            self,
            GetCertificate(_, _)
                | ListCertificates
                | ListCertificateVersions(_)
                | GetCertificatePolicy(_)
                | GetCertificateOperation(_)
                | BackupCertificate(_)
                | ListDeletedCertificates
                | GetDeletedCertificate(_)
                | GetContacts
                | ListIssuers
                | GetIssuer(_)
                | GetSecret(_, _)
                | Admin(_)
                | MethodNotAllowed
                | Unknown
        )
    }
}

/// Everything a handler needs about the request.
pub struct Ctx<'a> {
    /// Shared state.
    pub app: &'a App,
    /// `https://host[:port]`, no trailing slash: the prefix of every id.
    pub base: String,
    /// The `api-version` query value.
    pub api_version: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// The request body.
    pub body: Bytes,
}

impl Ctx<'_> {
    /// The `api-version` value, percent-encoded for use in a URL query.
    pub fn api_version_query(&self) -> String {
        percent_encoding::utf8_percent_encode(&self.api_version, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
            .replace("%2E", ".")
            .replace("%2D", "-")
    }

    /// A query value by case-insensitive name.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Parses the JSON body; an empty body is an error.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ApiError::bad_parameter("The request body is required."));
        }
        serde_json::from_slice(&self.body).map_err(ApiError::bad_body)
    }

    /// Parses the JSON body when there is one.
    pub fn json_opt<T: DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(T::default());
        }
        serde_json::from_slice(&self.body).map_err(ApiError::bad_body)
    }
}

/// A successful answer.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// JSON body (none for 204).
    pub body: Option<Value>,
    /// Extra headers.
    pub headers: Vec<(HeaderName, String)>,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn ok(body: Value) -> Self {
        Reply { status: StatusCode::OK, body: Some(body), headers: Vec::new() }
    }

    /// A status with a JSON body.
    pub fn with_status(status: StatusCode, body: Value) -> Self {
        Reply { status, body: Some(body), headers: Vec::new() }
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// The result of a handler.
pub type Handled = Result<Reply, ApiError>;

/// Runs the handler of a vault route (not admin routes).
pub async fn dispatch(route: &Route, ctx: &Ctx<'_>) -> Handled {
    use Route::*;
    match route {
        CreateCertificate(n) => operations::create(ctx, n).await,
        ImportCertificate(n) => operations::import(ctx, n),
        GetCertificateOperation(n) => operations::get(ctx, n),
        CancelCertificateOperation(n) => operations::cancel(ctx, n),
        DeleteCertificateOperation(n) => operations::delete(ctx, n),
        MergeCertificate(n) => operations::merge(ctx, n),
        GetCertificate(n, v) => certificates::get(ctx, n, v.as_deref()),
        UpdateCertificate(n, v) => certificates::update(ctx, n, v.as_deref()),
        DeleteCertificate(n) => certificates::delete(ctx, n),
        ListCertificates => certificates::list(ctx),
        ListCertificateVersions(n) => certificates::versions(ctx, n),
        GetCertificatePolicy(n) => certificates::get_policy(ctx, n),
        UpdateCertificatePolicy(n) => certificates::update_policy(ctx, n),
        BackupCertificate(n) => backup::backup(ctx, n),
        RestoreCertificate => backup::restore(ctx),
        ListDeletedCertificates => deleted::list(ctx),
        GetDeletedCertificate(n) => deleted::get(ctx, n),
        PurgeDeletedCertificate(n) => deleted::purge(ctx, n),
        RecoverDeletedCertificate(n) => deleted::recover(ctx, n),
        SetContacts => contacts::set(ctx),
        GetContacts => contacts::get(ctx),
        DeleteContacts => contacts::delete(ctx),
        ListIssuers => issuers::list(ctx),
        SetIssuer(n) => issuers::set(ctx, n),
        UpdateIssuer(n) => issuers::update(ctx, n),
        GetIssuer(n) => issuers::get(ctx, n),
        DeleteIssuer(n) => issuers::delete(ctx, n),
        GetSecret(n, v) => secrets::get(ctx, n, v.as_deref()),
        Admin(_) | Unknown => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "NotFound", "The requested resource does not exist."))
        }
        MethodNotAllowed => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The requested HTTP method is not supported for this resource.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_routes() {
        assert_eq!(Route::parse(&Method::GET, "/certificates/abc/"), Route::GetCertificate("abc".into(), None));
        assert_eq!(Route::parse(&Method::GET, "/certificates/contacts"), Route::GetContacts);
        assert_eq!(
            Route::parse(&Method::POST, "/certificates/abc/pending/merge"),
            Route::MergeCertificate("abc".into())
        );
        assert_eq!(
            Route::parse(&Method::GET, "/secrets/abc/0123"),
            Route::GetSecret("abc".into(), Some("0123".into()))
        );
        assert_eq!(Route::parse(&Method::PUT, "/certificates"), Route::MethodNotAllowed);
        assert_eq!(Route::parse(&Method::GET, "/keys/x"), Route::Unknown);
    }
}
