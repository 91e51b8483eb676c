//! The certificate operations of the REST API, their permissions and how to recognise them.

use http::Method;

macro_rules! operations {
    ($($variant:ident => $python:literal, $permission:literal, $method:ident;)*) => {
        /// One REST operation of the Key Vault certificates API (plus the certificate download
        /// through the secrets endpoint).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Operation {
            $(
                #[doc = concat!("`", $python, "` (needs `", $permission, "`).")]
                $variant,
            )*
        }

        impl Operation {
            /// Every operation.
            pub const ALL: &'static [Operation] = &[$(Operation::$variant),*];

            /// The Python SDK's name for the method that performs this operation.
            pub fn python_name(self) -> &'static str {
                match self { $(Operation::$variant => $python,)* }
            }

            /// The Key Vault access-policy permission the operation needs (as the service's
            /// documentation names it).
            pub fn permission(self) -> &'static str {
                match self { $(Operation::$variant => $permission,)* }
            }

            /// The HTTP method of the operation.
            pub fn method(self) -> Method {
                match self { $(Operation::$variant => Method::$method,)* }
            }
        }
    };
}

operations! {
    CreateCertificate => "begin_create_certificate", "certificates/create", POST;
    ImportCertificate => "import_certificate", "certificates/import", POST;
    GetCertificate => "get_certificate", "certificates/get", GET;
    GetCertificateVersion => "get_certificate_version", "certificates/get", GET;
    UpdateCertificateProperties => "update_certificate_properties", "certificates/update", PATCH;
    DeleteCertificate => "begin_delete_certificate", "certificates/delete", DELETE;
    ListPropertiesOfCertificates => "list_properties_of_certificates", "certificates/list", GET;
    ListPropertiesOfCertificateVersions => "list_properties_of_certificate_versions", "certificates/list", GET;
    GetCertificatePolicy => "get_certificate_policy", "certificates/get", GET;
    UpdateCertificatePolicy => "update_certificate_policy", "certificates/update", PATCH;
    GetCertificateOperation => "get_certificate_operation", "certificates/get", GET;
    CancelCertificateOperation => "cancel_certificate_operation", "certificates/update", PATCH;
    DeleteCertificateOperation => "delete_certificate_operation", "certificates/update", DELETE;
    MergeCertificate => "merge_certificate", "certificates/create", POST;
    BackupCertificate => "backup_certificate", "certificates/backup", POST;
    RestoreCertificateBackup => "restore_certificate_backup", "certificates/restore", POST;
    ListDeletedCertificates => "list_deleted_certificates", "certificates/list", GET;
    GetDeletedCertificate => "get_deleted_certificate", "certificates/get", GET;
    PurgeDeletedCertificate => "purge_deleted_certificate", "certificates/purge", DELETE;
    RecoverDeletedCertificate => "begin_recover_deleted_certificate", "certificates/recover", POST;
    SetContacts => "set_contacts", "certificates/managecontacts", PUT;
    GetContacts => "get_contacts", "certificates/managecontacts", GET;
    DeleteContacts => "delete_contacts", "certificates/managecontacts", DELETE;
    ListPropertiesOfIssuers => "list_properties_of_issuers", "certificates/getissuers (or manageissuers)", GET;
    CreateIssuer => "create_issuer", "certificates/setissuers (or manageissuers)", PUT;
    UpdateIssuer => "update_issuer", "certificates/setissuers (or manageissuers)", PATCH;
    GetIssuer => "get_issuer", "certificates/getissuers (or manageissuers)", GET;
    DeleteIssuer => "delete_issuer", "certificates/deleteissuers (or manageissuers)", DELETE;
    DownloadCertificate => "download_certificate", "secrets/get", GET;
}

/// The names a request path carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteParams {
    /// The certificate or issuer name.
    pub name: Option<String>,
    /// The certificate version (`None` for the latest).
    pub version: Option<String>,
}

impl Operation {
    /// Recognises the operation of a request from its method and path (relative to the vault,
    /// query excluded). `GET /certificates/{name}` and `GET /certificates/{name}/` are the same.
    ///
    /// ```
    /// use kvcerts_core::Operation;
    /// let (op, params) = Operation::identify(&http::Method::POST, "/certificates/c1/create").unwrap();
    /// assert_eq!(op, Operation::CreateCertificate);
    /// assert_eq!(params.name.as_deref(), Some("c1"));
    /// ```
    pub fn identify(method: &Method, path: &str) -> Option<(Operation, RouteParams)> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let named = |op: Operation, name: &str| Some((op, RouteParams { name: Some(decode(name)), version: None }));
        let versioned = |op: Operation, name: &str, version: &str| {
            let version = (!version.is_empty()).then(|| decode(version));
            Some((op, RouteParams { name: Some(decode(name)), version }))
        };
        let m = method.as_str();
        match (m, segments.as_slice()) {
            ("GET", ["certificates"]) => Some((Operation::ListPropertiesOfCertificates, RouteParams::default())),
            ("POST", ["certificates", "restore"]) => {
                Some((Operation::RestoreCertificateBackup, RouteParams::default()))
            }
            ("PUT", ["certificates", "contacts"]) => Some((Operation::SetContacts, RouteParams::default())),
            ("GET", ["certificates", "contacts"]) => Some((Operation::GetContacts, RouteParams::default())),
            ("DELETE", ["certificates", "contacts"]) => Some((Operation::DeleteContacts, RouteParams::default())),
            ("GET", ["certificates", "issuers"]) => Some((Operation::ListPropertiesOfIssuers, RouteParams::default())),
            ("PUT", ["certificates", "issuers", n]) => named(Operation::CreateIssuer, n),
            ("PATCH", ["certificates", "issuers", n]) => named(Operation::UpdateIssuer, n),
            ("GET", ["certificates", "issuers", n]) => named(Operation::GetIssuer, n),
            ("DELETE", ["certificates", "issuers", n]) => named(Operation::DeleteIssuer, n),
            ("POST", ["certificates", n, "create"]) => named(Operation::CreateCertificate, n),
            ("POST", ["certificates", n, "import"]) => named(Operation::ImportCertificate, n),
            ("POST", ["certificates", n, "backup"]) => named(Operation::BackupCertificate, n),
            ("GET", ["certificates", n, "versions"]) => named(Operation::ListPropertiesOfCertificateVersions, n),
            ("GET", ["certificates", n, "policy"]) => named(Operation::GetCertificatePolicy, n),
            ("PATCH", ["certificates", n, "policy"]) => named(Operation::UpdateCertificatePolicy, n),
            ("GET", ["certificates", n, "pending"]) => named(Operation::GetCertificateOperation, n),
            ("PATCH", ["certificates", n, "pending"]) => named(Operation::CancelCertificateOperation, n),
            ("DELETE", ["certificates", n, "pending"]) => named(Operation::DeleteCertificateOperation, n),
            ("POST", ["certificates", n, "pending", "merge"]) => named(Operation::MergeCertificate, n),
            ("GET", ["certificates", n]) | ("GET", ["certificates", n, ""]) => named(Operation::GetCertificate, n),
            ("GET", ["certificates", n, v]) => versioned(Operation::GetCertificateVersion, n, v),
            ("PATCH", ["certificates", n]) | ("PATCH", ["certificates", n, ""]) => {
                named(Operation::UpdateCertificateProperties, n)
            }
            ("PATCH", ["certificates", n, v]) => versioned(Operation::UpdateCertificateProperties, n, v),
            ("DELETE", ["certificates", n]) => named(Operation::DeleteCertificate, n),
            ("GET", ["deletedcertificates"]) => Some((Operation::ListDeletedCertificates, RouteParams::default())),
            ("GET", ["deletedcertificates", n]) => named(Operation::GetDeletedCertificate, n),
            ("DELETE", ["deletedcertificates", n]) => named(Operation::PurgeDeletedCertificate, n),
            ("POST", ["deletedcertificates", n, "recover"]) => named(Operation::RecoverDeletedCertificate, n),
            ("GET", ["secrets", n]) | ("GET", ["secrets", n, ""]) => named(Operation::DownloadCertificate, n),
            ("GET", ["secrets", n, v]) => versioned(Operation::DownloadCertificate, n, v),
            _ => None,
        }
        .filter(|(_, p)| p.name.as_deref().is_none_or(|n| !n.is_empty()))
    }
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifies_every_shape() {
        let cases = [
            ("GET", "/certificates/c/", Operation::GetCertificate, Some("c"), None),
            ("GET", "/certificates/c", Operation::GetCertificate, Some("c"), None),
            ("GET", "/certificates/c/0123", Operation::GetCertificateVersion, Some("c"), Some("0123")),
            ("PATCH", "/certificates/c/0123", Operation::UpdateCertificateProperties, Some("c"), Some("0123")),
            ("GET", "/certificates/contacts", Operation::GetContacts, None, None),
            ("GET", "/certificates/issuers/i1", Operation::GetIssuer, Some("i1"), None),
            ("POST", "/certificates/c/pending/merge", Operation::MergeCertificate, Some("c"), None),
            ("GET", "/secrets/c/v1", Operation::DownloadCertificate, Some("c"), Some("v1")),
            ("DELETE", "/deletedcertificates/c", Operation::PurgeDeletedCertificate, Some("c"), None),
        ];
        for (m, path, op, name, version) in cases {
            let (got, params) = Operation::identify(&m.parse().unwrap(), path).unwrap_or_else(|| panic!("{m} {path}"));
            assert_eq!(got, op, "{m} {path}");
            assert_eq!(params.name.as_deref(), name);
            assert_eq!(params.version.as_deref(), version);
        }
        assert!(Operation::identify(&Method::GET, "/keys/k").is_none());
        assert!(Operation::identify(&Method::GET, "/certificates//").is_none());
        assert_eq!(Operation::ALL.len(), 29);
    }
}
