//! The HTTP server: hyper HTTP/1 on a single-threaded tokio runtime in its own thread, with
//! the limits a scrape endpoint needs (connections, header size and read time, request body)
//! and a graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use statsfs_runtime::{Entry, Registry, Source};
use tokio::sync::{watch, Semaphore};

use crate::encode::{encode, Format};
use crate::json;

/// Server settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen; loopback by default (port 0 picks a free one).
    pub addr: SocketAddr,
    /// First word of every metric name.
    pub prefix: String,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Time allowed to send the request head.
    pub header_timeout: Duration,
    /// Largest request head, in bytes.
    pub max_header_bytes: usize,
    /// Allow `POST /clear?path=...` (off unless asked for).
    pub allow_clear: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 9190)),
            prefix: "statsfs".into(),
            max_connections: 64,
            header_timeout: Duration::from_secs(5),
            max_header_bytes: 16 * 1024,
            allow_clear: false,
        }
    }
}

/// A running server; dropping it shuts it down gracefully (in-flight requests finish).
pub struct Server {
    addr: SocketAddr,
    stop: Option<watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Binds and starts serving `registry` on a background thread.
    pub fn start(registry: &Registry, config: Config) -> std::io::Result<Server> {
        let std_listener = std::net::TcpListener::bind(config.addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let registry = registry.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("statsfs-http".into())
            .spawn(move || {
                rt.block_on(async move {
                    if let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) {
                        serve(listener, registry, Arc::new(config), stopped).await;
                    }
                })
            })?;
        Ok(Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    registry: Registry,
    config: Arc<Config>,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stopped.changed() => break,
        };
        let (stream, _) = tokio::select! {
            a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
            _ = stopped.changed() => break,
        };
        let (registry, config, mut stop) = (registry.clone(), config.clone(), stopped.clone());
        conns.spawn(async move {
            let _permit = permit;
            let (timeout, buf) = (config.header_timeout, config.max_header_bytes.max(8192));
            let svc = hyper::service::service_fn(move |req| {
                let (registry, config) = (registry.clone(), config.clone());
                async move { Ok::<_, Infallible>(handle(req, &registry, &config).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeout)
                .max_buf_size(buf)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        while conns.try_join_next().is_some() {}
    }
    // Graceful: wait for the connections in flight (they were told to finish).
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn json_response(v: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// `%XX` and `+` decoding of one query value.
fn decode(v: &str) -> Option<String> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The `path` query parameter, if any; `Err` when malformed.
fn path_param(req: &Request<Incoming>) -> Result<Option<String>, ()> {
    let Some(q) = req.uri().query() else {
        return Ok(None);
    };
    for pair in q.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "path" {
            return decode(v).map(Some).ok_or(());
        }
    }
    Ok(None)
}

/// The source `?path=` names, or the error response to send. The response is large for an
/// `Err`, but it is built once per failed request and never propagated further.
#[allow(clippy::result_large_err)]
fn subtree(registry: &Registry, path: Option<&str>) -> Result<Source, Response<Full<Bytes>>> {
    match path {
        None => Ok(registry.root().clone()),
        Some(p) => match registry.lookup(p) {
            Ok(Entry::Source(s)) => Ok(s),
            Ok(Entry::Value(_)) => Err(text(
                StatusCode::BAD_REQUEST,
                "path names a value, not a source\n",
            )),
            Err(e) => Err(text(StatusCode::NOT_FOUND, format!("{e}\n"))),
        },
    }
}

async fn handle(
    req: Request<Incoming>,
    registry: &Registry,
    config: &Config,
) -> Response<Full<Bytes>> {
    let path = match path_param(&req) {
        Ok(p) => p,
        Err(()) => return text(StatusCode::BAD_REQUEST, "malformed query\n"),
    };
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => {
            let root = match subtree(registry, path.as_deref()) {
                Ok(s) => s,
                Err(r) => return r,
            };
            let accept = req
                .headers()
                .get(ACCEPT)
                .and_then(|a| a.to_str().ok())
                .unwrap_or("");
            let format = if accept.contains("application/openmetrics-text") {
                Format::OpenMetrics
            } else {
                Format::Prometheus
            };
            let mut body = Vec::with_capacity(64 * 1024);
            encode(&root, &config.prefix, format, &mut body);
            let mut r = Response::new(Full::new(Bytes::from(body)));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            r
        }
        (&Method::GET, "/snapshot.json") => match subtree(registry, path.as_deref()) {
            Ok(s) => json_response(&json::snapshot(&s)),
            Err(r) => r,
        },
        // One binary stats file describes one source (a VM, a vCPU, `kvm/`); the root has
        // no values, so asking for it is a mistake worth a clear answer, not an empty file.
        (&Method::GET, "/kvm-stats") if path.is_none() => {
            let mut msg = String::from("kvm-stats needs ?path=SOURCE, one of:");
            for c in registry.root().visible_children() {
                msg.push(' ');
                msg.push_str(c.name());
            }
            msg.push_str(" (or a source below them, such as kvm/<vm>/vcpu0)\n");
            text(StatusCode::BAD_REQUEST, msg)
        }
        (&Method::GET, "/kvm-stats") => match subtree(registry, path.as_deref()) {
            Ok(s) => {
                let mut r = Response::new(Full::new(Bytes::from(
                    statsfs_runtime::kvm_binary::encode_source(&s),
                )));
                r.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                r
            }
            Err(r) => r,
        },
        (&Method::GET, "/schema.json") => {
            json_response(&json::schema(registry.root(), &config.prefix))
        }
        (&Method::POST, "/clear") => {
            if !config.allow_clear {
                return text(
                    StatusCode::FORBIDDEN,
                    "clear over HTTP is disabled (start the server with allow_clear)\n",
                );
            }
            // The body is not used; refuse large ones without reading them.
            if Limited::new(req.into_body(), 1024).collect().await.is_err() {
                return text(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n");
            }
            let Some(p) = path else {
                return text(StatusCode::BAD_REQUEST, "clear needs ?path=source/value\n");
            };
            match registry.lookup(&p) {
                Ok(Entry::Value(v)) => match v.write_text(b"0") {
                    Ok(()) => text(StatusCode::OK, "cleared\n"),
                    Err(e) => text(StatusCode::FORBIDDEN, format!("{e}\n")),
                },
                Ok(Entry::Source(_)) => text(
                    StatusCode::BAD_REQUEST,
                    "path names a source, not a value\n",
                ),
                Err(e) => text(StatusCode::NOT_FOUND, format!("{e}\n")),
            }
        }
        (_, "/metrics" | "/snapshot.json" | "/schema.json" | "/kvm-stats" | "/clear") => {
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /metrics, /snapshot.json, /schema.json\n",
        ),
    }
}
