//! The HTTP(S) server: accept loop, TLS, HTTP/1.1 keep-alive and HTTP/2, and the request
//! pipeline (admin routes, bearer challenge, `api-version`, faults, dispatch, headers, stats).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, EXPIRES, PRAGMA, RETRY_AFTER, STRICT_TRANSPORT_SECURITY,
    WWW_AUTHENTICATE,
};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::api_error::ApiError;
use crate::app::App;
use crate::body::Body;
use crate::faults::{FaultAction, FaultConfig};
use crate::ids::new_request_id;
use crate::routes::{dispatch, Ctx, Reply, Route};

/// Largest request body accepted.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Runs the accept loop until `shutdown` turns true.
pub async fn run(listener: TcpListener, app: Arc<App>, tls: Option<TlsAcceptor>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(x) => x,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                app.stats.connection();
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let tls = tls.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                serve(s, app, shutdown).await;
                            }
                        }
                        None => serve(stream, app, shutdown).await,
                    }
                });
            }
        }
    }
}

async fn serve<S>(io: S, app: Arc<App>, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(handle(app, req).await) }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::select! {
        _ = conn => {}
        _ = shutdown.changed() => {}
    }
}

/// Decoded query pairs.
fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    q.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// `scheme://authority` for ids: the configured host name, else the request's authority.
fn base_url(app: &App, req: &http::request::Parts) -> String {
    let authority = app
        .public_authority
        .clone()
        .or_else(|| req.uri.authority().map(|a| a.to_string()))
        .or_else(|| {
            req.headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| !h.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| app.local_authority.clone());
    format!("{}://{}", app.scheme, authority)
}

/// A response under construction, before the common headers.
struct Out {
    status: StatusCode,
    body: Option<Value>,
    headers: Vec<(HeaderName, String)>,
    drop_connection: bool,
}

impl Out {
    fn error(e: &ApiError) -> Out {
        Out { status: e.status, body: Some(e.body()), headers: Vec::new(), drop_connection: false }
    }

    fn reply(r: Reply) -> Out {
        Out { status: r.status, body: r.body, headers: r.headers, drop_connection: false }
    }
}

async fn handle(app: Arc<App>, req: Request<Incoming>) -> Response<Body> {
    let request_id = new_request_id();
    let client_request_id =
        req.headers().get("x-ms-client-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let route = Route::parse(req.method(), req.uri().path());
    let out = match &route {
        Route::Admin(sub) => admin(&app, sub.clone(), req).await,
        _ => vault_request(&app, &route, req).await,
    };
    app.stats.request(route.name(), out.status.as_u16());
    respond(&app, out, &request_id, client_request_id)
}

fn respond(app: &App, out: Out, request_id: &str, client_request_id: Option<String>) -> Response<Body> {
    let bytes = out.body.as_ref().map(|v| Bytes::from(serde_json::to_vec(v).unwrap_or_default()));
    let mut builder = Response::builder().status(out.status);
    let headers = builder.headers_mut();
    if let Some(h) = headers {
        let mut put = |name: HeaderName, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.append(name, v);
            }
        };
        put(CACHE_CONTROL, "no-cache");
        put(PRAGMA, "no-cache");
        put(EXPIRES, "-1");
        put(HeaderName::from_static("x-content-type-options"), "nosniff");
        if app.scheme == "https" {
            put(STRICT_TRANSPORT_SECURITY, "max-age=31536000;includeSubDomains");
        }
        put(HeaderName::from_static("x-ms-request-id"), request_id);
        put(HeaderName::from_static("x-ms-keyvault-service-version"), app.service_version);
        put(HeaderName::from_static("x-ms-keyvault-region"), "emulator");
        if let Some(c) = &client_request_id {
            put(HeaderName::from_static("x-ms-client-request-id"), c);
        }
        if bytes.is_some() {
            put(CONTENT_TYPE, "application/json; charset=utf-8");
        }
        if let (true, Some(b)) = (out.drop_connection, &bytes) {
            put(CONTENT_LENGTH, &b.len().to_string());
        }
        for (name, value) in &out.headers {
            put(name.clone(), value);
        }
    }
    let body = match bytes {
        Some(b) if out.drop_connection => Body::truncated(b),
        Some(b) => Body::full(b),
        None => Body::empty(),
    };
    builder.body(body).unwrap_or_else(|_| Response::new(Body::empty()))
}

/// The bearer check: `None` when the request may go on, or the 401 to send.
fn challenge(app: &App, req: &http::request::Parts) -> Option<Out> {
    let header = req.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let token = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty());
    let message = match (token, &app.auth.required_token) {
        (None, _) => "AKV10000: Request is missing a Bearer or PoP token.",
        (Some(t), Some(required)) if t != required => {
            "AKV10022: Invalid token: the bearer token is not the one this emulator requires."
        }
        _ => return None,
    };
    app.stats.challenge();
    let e = ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", message);
    let mut out = Out::error(&e);
    out.headers.push((WWW_AUTHENTICATE, app.auth.challenge()));
    Some(out)
}

async fn vault_request(app: &Arc<App>, route: &Route, req: Request<Incoming>) -> Out {
    // The whole request is read before any answer, as the service does: answering early (the
    // 401, an injected fault) with the body unread would make the server close the connection
    // under a client still sending it, which a real vault does not do.
    let (req, incoming) = req.into_parts();
    let body = match Limited::new(incoming, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Out::error(&ApiError::bad_parameter("The request body could not be read or is too large.")),
    };
    if let Some(out) = challenge(app, &req) {
        return out;
    }
    let query = parse_query(req.uri.query());
    let api_version =
        query.iter().find(|(k, _)| k.eq_ignore_ascii_case("api-version")).map(|(_, v)| v.clone()).unwrap_or_default();
    if api_version.is_empty() {
        return Out::error(&ApiError::bad_parameter(
            "The 'api-version' query parameter is missing. Specify the API version of the operation (for example api-version=7.5).",
        ));
    }
    let (fault, delay) = app.faults.decide(route.name());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match fault {
        FaultAction::Throttle(secs) => {
            app.stats.fault();
            let e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Throttled",
                "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached",
            );
            let mut out = Out::error(&e);
            out.headers.push((RETRY_AFTER, secs.to_string()));
            return out;
        }
        FaultAction::Error(status) => {
            app.stats.fault();
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let code =
                if status == StatusCode::SERVICE_UNAVAILABLE { "ServiceUnavailable" } else { "InternalServerError" };
            return Out::error(&ApiError::new(
                status,
                code,
                "The service is unavailable (fault injected by kvcerts-emulator).",
            ));
        }
        FaultAction::Drop | FaultAction::None => {}
    }
    let base = base_url(app, &req);
    let ctx = Ctx { app, base, api_version, query, body };
    let mut out = match dispatch(route, &ctx).await {
        Ok(reply) => Out::reply(reply),
        Err(e) => Out::error(&e),
    };
    if route.mutates() && out.status.is_success() {
        app.persist();
    }
    if fault == FaultAction::Drop {
        app.stats.fault();
        out.drop_connection = true;
        if out.body.is_none() {
            out.body = Some(json!({}));
        }
    }
    out
}

async fn admin(app: &App, sub: String, req: Request<Incoming>) -> Out {
    let method = req.method().clone();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let ok = |v: Value| Out { status: StatusCode::OK, body: Some(v), headers: Vec::new(), drop_connection: false };
    match (method, sub.trim_end_matches('/')) {
        (Method::GET, "health") => ok(json!({ "status": "ok" })),
        (Method::GET, "stats") => ok(to_json(&app.stats.snapshot())),
        (Method::DELETE, "stats") => {
            app.stats.reset();
            ok(to_json(&app.stats.snapshot()))
        }
        (Method::GET, "faults") => ok(to_json(&app.faults.config())),
        (Method::DELETE, "faults") => {
            app.faults.clear();
            ok(to_json(&app.faults.config()))
        }
        (Method::POST | Method::PUT, "faults") => {
            let parsed: Result<FaultConfig, String> = if body.is_empty() {
                Ok(FaultConfig::default())
            } else {
                serde_json::from_slice(&body).map_err(|e| e.to_string())
            };
            match parsed.and_then(|c| c.validate().map(|_| c)) {
                Ok(c) => {
                    app.faults.set(c);
                    ok(to_json(&app.faults.config()))
                }
                Err(e) => Out::error(&ApiError::bad_parameter(format!("Invalid fault configuration: {e}"))),
            }
        }
        _ => Out::error(&ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "Unknown emulator admin route. Use /_emulator/stats, /_emulator/faults or /_emulator/health.",
        )),
    }
}

/// Any serializable value as JSON.
fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
