//! Reader for Azure SDK *test-proxy* recordings of the real Key Vault service.
//!
//! The format is described in `shared/recordings/README.md`: a JSON object with an `Entries`
//! array, each entry holding one request/response exchange, plus optional `Variables` and
//! `Source`. This module turns such a file into typed [`Recording`] / [`Entry`] values built on
//! the `http` crate, and never panics on malformed input: every problem is reported as a
//! [`RecordingError`] naming the file and what is wrong with it.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use http::header::{HeaderName, CONTENT_LENGTH, TRANSFER_ENCODING, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// Environment variable that overrides the directory returned by [`recordings_dir`].
pub const RECORDINGS_ENV: &str = "KVCERTS_RECORDINGS";

/// Hosts of identity (token) endpoints; entries addressed to them are not vault entries.
const IDENTITY_HOSTS: &[&str] = &["login.microsoftonline.com", "login.windows.net", "169.254.169.254"];

/// The directory holding the recordings to test against.
///
/// This is the value of the `KVCERTS_RECORDINGS` environment variable when it is set and not
/// empty, and [`default_recordings_dir`] otherwise.
pub fn recordings_dir() -> PathBuf {
    match std::env::var_os(RECORDINGS_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => default_recordings_dir(),
    }
}

/// The recordings shipped beside the workspace: `<workspace root>/../shared/recordings`, where
/// the workspace root is the parent of this crate's manifest directory.
pub fn default_recordings_dir() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    match manifest_dir.parent().and_then(Path::parent) {
        Some(outside_workspace) => outside_workspace.join("shared").join("recordings"),
        None => manifest_dir.join("..").join("..").join("shared").join("recordings"),
    }
}

/// Why a recording (or a directory of recordings) could not be loaded.
#[derive(Debug)]
pub enum RecordingError {
    /// A file or directory could not be read.
    Io {
        /// The file or directory that could not be read.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A file was read but is not a valid recording.
    Invalid {
        /// The file (its path when loaded from disk, else the name given to
        /// [`Recording::parse`]).
        file: String,
        /// What is wrong, including the entry index and field where applicable.
        message: String,
    },
    /// A directory holds no `*.json` recording.
    NoRecordings {
        /// The directory that was searched.
        dir: PathBuf,
    },
}

impl fmt::Display for RecordingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordingError::Io { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            RecordingError::Invalid { file, message } => {
                write!(f, "invalid recording {file}: {message}")
            }
            RecordingError::NoRecordings { dir } => {
                write!(f, "no *.json recordings in {}", dir.display())
            }
        }
    }
}

impl std::error::Error for RecordingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RecordingError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A recorded request or response body.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordedBody {
    /// The key is missing: the recorder did not capture this body (the `cpp-*` request bodies).
    /// Nothing can be said about what was sent.
    Absent,
    /// The key is `null`: there was no body.
    Null,
    /// The body was JSON; this is its parsed value.
    Json(Value),
    /// The body was not JSON; this is its text.
    Text(String),
}

impl RecordedBody {
    /// The body as bytes: JSON compactly serialized, text as UTF-8, nothing for
    /// [`RecordedBody::Null`] and [`RecordedBody::Absent`].
    ///
    /// Note that JSON objects are serialized with their keys in `serde_json`'s map order
    /// (sorted, unless the `preserve_order` feature is enabled in the build), which need not be
    /// the order in which the service sent them.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            RecordedBody::Absent | RecordedBody::Null => Vec::new(),
            RecordedBody::Json(value) => serde_json::to_vec(value).unwrap_or_default(),
            RecordedBody::Text(text) => text.as_bytes().to_vec(),
        }
    }

    /// Whether the recorder captured this body (anything but [`RecordedBody::Absent`]).
    pub fn is_recorded(&self) -> bool {
        !matches!(self, RecordedBody::Absent)
    }

    fn from_field(value: Option<&Value>) -> RecordedBody {
        match value {
            None => RecordedBody::Absent,
            Some(Value::Null) => RecordedBody::Null,
            Some(Value::String(text)) => RecordedBody::Text(text.clone()),
            Some(other) => RecordedBody::Json(other.clone()),
        }
    }
}

/// One recorded exchange: a request and the service's response to it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Position of this entry in the recording's `Entries` array (0-based).
    pub index: usize,
    /// The request method.
    pub method: Method,
    /// The absolute request URI, as recorded (sanitized host included).
    pub uri: Uri,
    /// The request headers (names are case-insensitive).
    pub request_headers: HeaderMap,
    /// The request body ([`RecordedBody::Absent`] when the recorder did not capture it).
    pub request_body: RecordedBody,
    /// The response status.
    pub status: StatusCode,
    /// The response headers, as recorded (including `content-length`).
    pub response_headers: HeaderMap,
    /// The response body.
    pub response_body: RecordedBody,
}

impl Entry {
    /// The recorded response as an `http::Response`: the status, the headers without
    /// `content-length` and `transfer-encoding` (they described the original framing), and the
    /// body bytes (see [`RecordedBody::to_bytes`]).
    pub fn response(&self) -> http::Response<Vec<u8>> {
        let mut response = http::Response::new(self.response_body.to_bytes());
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        for (name, value) in &self.response_headers {
            if name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
                headers.append(name.clone(), value.clone());
            }
        }
        response
    }

    /// The request body bytes, or `None` when the recorder did not capture the body.
    pub fn request_body_bytes(&self) -> Option<Vec<u8>> {
        match &self.request_body {
            RecordedBody::Absent => None,
            body => Some(body.to_bytes()),
        }
    }

    /// The request path, as recorded (still percent-encoded).
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// The request query as `(name, value)` pairs, percent-decoded, in recorded order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        query_pairs(self.uri.query().unwrap_or(""))
    }

    /// Whether this request went to the vault, i.e. not to an identity (token) endpoint such as
    /// `login.microsoftonline.com`, `login.windows.net`, the instance metadata service
    /// `169.254.169.254`, or any path containing `/oauth2/`.
    pub fn is_vault(&self) -> bool {
        let host = self.uri.host().unwrap_or("");
        let identity_host = IDENTITY_HOSTS.iter().any(|known| host.eq_ignore_ascii_case(known));
        !(identity_host || self.uri.path().contains("/oauth2/"))
    }

    /// Whether this is a bearer challenge: status 401 with a `WWW-Authenticate` header.
    pub fn is_challenge(&self) -> bool {
        self.status == StatusCode::UNAUTHORIZED && self.response_headers.contains_key(WWW_AUTHENTICATE)
    }
}

/// A recorded session: the entries of one recording file, in order.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The file stem (e.g. `cpp-KeyVaultCertificateClientTest.GetCertificate`), or the name
    /// given to [`Recording::parse`].
    pub name: String,
    /// The file the recording was loaded from; empty when parsed from memory.
    pub path: PathBuf,
    /// The recorded exchanges, in order.
    pub entries: Vec<Entry>,
    /// The `Source` field: where the recording was taken from, when present.
    pub source: Option<String>,
}

impl Recording {
    /// Loads the recording called `name` (file stem) from [`recordings_dir`], or else from
    /// [`default_recordings_dir`]: for tests about particular recorded exchanges.
    pub fn named(name: &str) -> Result<Recording, RecordingError> {
        let file = format!("{name}.json");
        let path = recordings_dir().join(&file);
        let path = if path.is_file() { path } else { default_recordings_dir().join(&file) };
        Recording::load(path)
    }

    /// Loads one recording file. The recording's name is the file stem.
    pub fn load(path: impl AsRef<Path>) -> Result<Recording, RecordingError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| RecordingError::Io { path: path.to_path_buf(), source })?;
        let name = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
        let mut recording = parse_recording(&name, &bytes)
            .map_err(|message| RecordingError::Invalid { file: path.display().to_string(), message })?;
        recording.path = path.to_path_buf();
        Ok(recording)
    }

    /// Loads every `*.json` file of a directory, sorted by file name.
    ///
    /// Fails on the first file that cannot be loaded (the error names it), and when the
    /// directory is missing, unreadable or holds no `*.json` file.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<Recording>, RecordingError> {
        let dir = dir.as_ref();
        let io_error = |source| RecordingError::Io { path: dir.to_path_buf(), source };
        let mut files = Vec::new();
        for item in fs::read_dir(dir).map_err(io_error)? {
            let path = item.map_err(io_error)?.path();
            let is_json = path.extension().is_some_and(|ext| ext == "json");
            if is_json && path.is_file() {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(RecordingError::NoRecordings { dir: dir.to_path_buf() });
        }
        files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        files.iter().map(Recording::load).collect()
    }

    /// Parses a recording from memory. `name` becomes [`Recording::name`] and is used in errors.
    ///
    /// Never panics, whatever the bytes.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Recording, RecordingError> {
        parse_recording(name, bytes).map_err(|message| RecordingError::Invalid { file: name.to_string(), message })
    }

    /// The entries sent to the vault (see [`Entry::is_vault`]), in order.
    pub fn vault_entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|entry| entry.is_vault())
    }

    /// Whether the first vault entry is a bearer challenge (see [`Entry::is_challenge`]), as in
    /// recordings made by a client that had no token yet.
    pub fn starts_with_challenge(&self) -> bool {
        self.vault_entries().next().is_some_and(|entry| entry.is_challenge())
    }

    /// `host[:port]` of the first vault entry, e.g. `REDACTED.vault.azure.net`.
    pub fn vault_authority(&self) -> Option<String> {
        let uri = &self.vault_entries().next()?.uri;
        let host = uri.host()?;
        Some(match uri.port_u16() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        })
    }

    /// `scheme://host[:port]` of the first vault entry, e.g.
    /// `https://REDACTED.vault.azure.net`.
    pub fn vault_origin(&self) -> Option<String> {
        let entry = self.vault_entries().next()?;
        let scheme = entry.uri.scheme_str().unwrap_or("https");
        Some(format!("{scheme}://{}", self.vault_authority()?))
    }
}

/// Splits a raw query string into percent-decoded `(name, value)` pairs.
///
/// Empty segments are skipped; a segment without `=` has an empty value. `+` is kept as is
/// (Key Vault URIs percent-encode spaces).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let (name, value) = segment.split_once('=').unwrap_or((segment, ""));
            (decode(name), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

fn parse_recording(name: &str, bytes: &[u8]) -> Result<Recording, String> {
    let root: Value = serde_json::from_slice(bytes).map_err(|err| format!("not valid JSON: {err}"))?;
    let root = root.as_object().ok_or("the top level is not a JSON object")?;
    let entries = match root.get("Entries") {
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err("`Entries` is not an array".into()),
        None => return Err("no `Entries` array".into()),
    };
    let source = match root.get("Source") {
        None | Some(Value::Null) => None,
        Some(Value::String(source)) => Some(source.clone()),
        Some(_) => return Err("`Source` is not a string".into()),
    };
    let entries = entries
        .iter()
        .enumerate()
        .map(|(index, entry)| parse_entry(index, entry).map_err(|message| format!("entry {index}: {message}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Recording { name: name.to_string(), path: PathBuf::new(), entries, source })
}

fn parse_entry(index: usize, entry: &Value) -> Result<Entry, String> {
    let entry = entry.as_object().ok_or("not a JSON object")?;

    let uri_text = required_str(entry, "RequestUri")?;
    let uri: Uri = uri_text.parse().map_err(|err| format!("`RequestUri` {uri_text:?} is not a valid URI: {err}"))?;
    if uri.scheme().is_none() || uri.authority().is_none() {
        return Err(format!("`RequestUri` {uri_text:?} is not an absolute URI"));
    }

    let method_text = required_str(entry, "RequestMethod")?;
    let method = Method::from_bytes(method_text.as_bytes())
        .map_err(|_| format!("`RequestMethod` {method_text:?} is not a valid method"))?;

    let status = match entry.get("StatusCode") {
        Some(Value::Number(number)) => number
            .as_u64()
            .and_then(|code| u16::try_from(code).ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .ok_or_else(|| format!("`StatusCode` {number} is not a valid HTTP status"))?,
        Some(_) => return Err("`StatusCode` is not a number".into()),
        None => return Err("no `StatusCode`".into()),
    };

    Ok(Entry {
        index,
        method,
        uri,
        request_headers: parse_headers(entry, "RequestHeaders")?,
        request_body: RecordedBody::from_field(entry.get("RequestBody")),
        status,
        response_headers: parse_headers(entry, "ResponseHeaders")?,
        response_body: RecordedBody::from_field(entry.get("ResponseBody")),
    })
}

fn required_str<'a>(entry: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    match entry.get(key) {
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(format!("`{key}` is not a string")),
        None => Err(format!("no `{key}`")),
    }
}

/// Parses a headers object. A missing or `null` object means no headers; a value may be a string
/// or (as some recorders write repeated headers) an array of strings.
fn parse_headers(entry: &Map<String, Value>, key: &str) -> Result<HeaderMap, String> {
    let object = match entry.get(key) {
        None | Some(Value::Null) => return Ok(HeaderMap::new()),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(format!("`{key}` is not an object")),
    };
    let mut headers = HeaderMap::new();
    for (name, value) in object {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{key}`: {name:?} is not a valid header name"))?;
        let values: Vec<&str> = match value {
            Value::String(text) => vec![text.as_str()],
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_str().ok_or_else(|| format!("`{key}`: header {name:?} has a value that is not a string"))
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(format!("`{key}`: header {name:?} is not a string")),
        };
        for text in values {
            let header_value = HeaderValue::from_bytes(text.as_bytes())
                .map_err(|_| format!("`{key}`: header {name:?} has an invalid value {text:?}"))?;
            headers.append(header_name.clone(), header_value);
        }
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_are_decoded() {
        assert_eq!(
            query_pairs("api-version=7.3&%24skiptoken=a%2Bb%3D&flag&&x=1=2"),
            vec![
                ("api-version".to_string(), "7.3".to_string()),
                ("$skiptoken".to_string(), "a+b=".to_string()),
                ("flag".to_string(), String::new()),
                ("x".to_string(), "1=2".to_string()),
            ]
        );
    }

    #[test]
    fn default_dir_is_beside_the_workspace() {
        let dir = default_recordings_dir();
        assert!(dir.ends_with("shared/recordings"), "{}", dir.display());
        assert!(!dir.starts_with(env!("CARGO_MANIFEST_DIR")));
    }
}
