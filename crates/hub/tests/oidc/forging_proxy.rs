//! A loopback proxy in front of the OpenID provider, for the test of forged ID tokens through
//! the hub's real callback: it passes every request through unchanged, except that, while a
//! forger is set, the ID token in the provider's answer to the hub's token request (`POST
//! /token`) is replaced by the forger's version of it. The provider is started with the
//! proxy's address as its issuer and sees the proxy's Host header, so every URL it hands out
//! leads back through the proxy.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use std::sync::{Arc, Mutex};

/// Turns the provider's genuine ID token into the one the hub receives.
pub type Forger = Box<dyn Fn(&str) -> String + Send + Sync>;

/// The forger in use (`None`: tokens pass unchanged).
#[derive(Clone, Default)]
pub struct Forge(Arc<Mutex<Option<Forger>>>);

impl Forge {
    /// Sets the forger for the next token requests.
    pub fn set(&self, f: Forger) {
        *self.0.lock().unwrap() = Some(f);
    }
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    forge: Forge,
}

/// Serves the proxy on `listener`, forwarding to `upstream` (`http://127.0.0.1:<port>`).
pub fn start(listener: tokio::net::TcpListener, upstream: String, forge: Forge) {
    let state = Proxy {
        upstream,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        forge,
    };
    let app = axum::Router::new().fallback(forward).with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await });
}

async fn forward(
    State(p): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = format!(
        "{}{}",
        p.upstream,
        uri.path_and_query().map_or("/", |x| x.as_str())
    );
    let mut req = p.http.request(method.clone(), target);
    // the Host header passes too: the provider builds the URLs it hands out from it
    for (k, v) in &headers {
        if k != "content-length" {
            req = req.header(k, v);
        }
    }
    let r = req.body(body).send().await.unwrap();
    let (status, head) = (r.status(), r.headers().clone());
    let mut body = r.bytes().await.unwrap().to_vec();
    if method == Method::POST
        && uri.path() == "/token"
        && status.is_success()
        && let Some(f) = p.forge.0.lock().unwrap().as_ref()
    {
        let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let genuine = v["id_token"].as_str().unwrap().to_owned();
        v["id_token"] = f(&genuine).into();
        body = serde_json::to_vec(&v).unwrap();
    }
    let mut out = Response::builder().status(status);
    for (k, v) in &head {
        if k != "content-length" && k != "transfer-encoding" {
            out = out.header(k, v);
        }
    }
    out.body(Body::from(body)).unwrap()
}
