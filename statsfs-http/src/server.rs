//! The HTTP server: hyper HTTP/1 on a single-threaded tokio runtime in its own thread, with
//! the limits a scrape endpoint needs so that no number of idle, slow or non-reading
//! clients keeps a scraper out:
//!
//! - up to `max_connections` connections are held; when that many are open, the one idle
//!   longest (no request in progress, no response being sent) is closed to admit the new
//!   one, so idle and slowloris connections cannot fill the server;
//! - a request head must arrive within `header_timeout` of the connection being ready for
//!   it (this also closes idle keep-alive connections), and is at most `max_header_bytes`;
//! - a request body (only `POST /clear` reads one) is at most 1 KiB and must arrive within
//!   `body_timeout`;
//! - a response write that makes no progress for `write_timeout`, or a response not handed
//!   to the kernel within `response_timeout`, closes the connection; hyper buffers at most
//!   one response plus `max_header_bytes` of pipelined output per connection, so a client
//!   that pipelines requests and never reads holds a bounded amount of memory for a bounded
//!   time;
//! - shutdown is graceful (in-flight requests finish, for up to 5 s).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ACCEPT, ALLOW, CONNECTION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use statsfs_runtime::{Entry, Registry, Source};
use tokio::sync::watch;

use crate::conns::Conns;
use crate::encode::{encode, Format};
use crate::json;
use crate::timed_io::TimedIo;

/// Server settings. Build it with `..Config::default()` so that new fields keep their
/// defaults.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen; loopback by default (port 0 picks a free one).
    pub addr: SocketAddr,
    /// First word of every metric name (default
    /// [`statsfs_runtime::naming::DEFAULT_NAMESPACE`], the one the generated docs use).
    pub prefix: String,
    /// Connections held at once (default 1024). When full, the connection idle longest is
    /// closed to admit a new one; only when all are busy do new ones wait in the kernel's
    /// backlog. Each costs a file descriptor: keep it below `RLIMIT_NOFILE`.
    pub max_connections: usize,
    /// Time allowed to send a request head, counted from when the connection is ready for
    /// one, so it is also how long an idle keep-alive connection is kept.
    pub header_timeout: Duration,
    /// Largest request head, in bytes.
    pub max_header_bytes: usize,
    /// Time allowed to receive a request body (default 5 s).
    pub body_timeout: Duration,
    /// A response write making no progress for this long (the client does not read) closes
    /// the connection (default 5 s).
    pub write_timeout: Duration,
    /// Time allowed to hand one whole response to the kernel (default 30 s).
    pub response_timeout: Duration,
    /// The kernel's send buffer per connection (`SO_SNDBUF`, default 256 KiB): with hyper's
    /// own buffer, it bounds the output a client that does not read holds until
    /// `write_timeout` closes it (loopback autotuning would otherwise allow 4 MiB).
    pub send_buffer_bytes: usize,
    /// Allow `POST /clear?path=...` (off unless asked for).
    pub allow_clear: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 9190)),
            prefix: statsfs_runtime::naming::DEFAULT_NAMESPACE.into(),
            max_connections: 1024,
            header_timeout: Duration::from_secs(5),
            max_header_bytes: 16 * 1024,
            body_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(30),
            send_buffer_bytes: 256 * 1024,
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
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _in_rt = rt.enter();
            let socket = if config.addr.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            socket.set_reuseaddr(true)?;
            // Accepted sockets inherit it.
            socket.set_send_buffer_size(config.send_buffer_bytes.clamp(4096, 1 << 30) as u32)?;
            socket.bind(config.addr)?;
            // A backlog as deep as the connections held, so that a burst of connects is
            // queued rather than dropped while the accept loop catches up.
            socket.listen(config.max_connections.clamp(128, 4096) as u32)?
        };
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let registry = registry.clone();
        let thread = std::thread::Builder::new()
            .name("statsfs-http".into())
            .spawn(move || rt.block_on(serve(listener, registry, Arc::new(config), stopped)))?;
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
    let table = Arc::new(Conns::new());
    let max = config.max_connections.max(1);
    let mut conns = tokio::task::JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        // Make room before accepting: shed the connection idle longest, or wait for one
        // to end or become idle when all are busy.
        if table.live() >= max && !table.shed_one() {
            tokio::select! {
                _ = table.freed.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = stopped.changed() => break,
            }
            continue;
        }
        let stream = tokio::select! {
            a = listener.accept() => match a {
                Ok((s, _)) => s,
                // Out of file descriptors (or another transient error): free one if we
                // can, and never spin.
                Err(_) => {
                    table.shed_one();
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let (state, leave) = table.add();
        let (registry, config, mut stop) = (registry.clone(), config.clone(), stopped.clone());
        conns.spawn(async move {
            let _leave = leave;
            let io = TimedIo::new(
                stream,
                state.clone(),
                config.write_timeout,
                config.response_timeout,
            );
            let (timeout, buf) = (config.header_timeout, config.max_header_bytes.max(8192));
            let svc_state = state.clone();
            let svc = hyper::service::service_fn(move |req| {
                let (registry, config, state) =
                    (registry.clone(), config.clone(), svc_state.clone());
                async move {
                    state.in_handler.store(true, Relaxed);
                    state.touch();
                    let r = handle(req, &registry, &config).await;
                    state.in_handler.store(false, Relaxed);
                    Ok::<_, Infallible>(r)
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeout)
                .max_buf_size(buf)
                // A client that half-closes after its request still gets the response.
                .half_close(true)
                .serve_connection(TokioIo::new(io), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                // Shed to make room: dropping the connection closes it.
                _ = state.wake.notified() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
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

/// The largest request body read (`POST /clear` needs none).
const MAX_BODY_BYTES: usize = 1024;

/// A 405 saying which methods the resource has, as RFC 9110 requires.
fn not_allowed(allow: &'static str) -> Response<Full<Bytes>> {
    let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    r.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    r
}

/// Marks a response as the connection's last: the request body was not read to its end,
/// so the connection cannot carry another request.
fn closing(mut r: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    r.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
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
        (&Method::GET | &Method::HEAD, "/snapshot.json") => {
            match subtree(registry, path.as_deref()) {
                Ok(s) => json_response(&json::snapshot(&s)),
                Err(r) => r,
            }
        }
        // One binary stats file describes one source (a VM, a vCPU, `kvm/`); the root has
        // no values, so asking for it is a mistake worth a clear answer, not an empty file.
        (&Method::GET | &Method::HEAD, "/kvm-stats") if path.is_none() => {
            let mut msg = String::from("kvm-stats needs ?path=SOURCE, one of:");
            for c in registry.root().visible_children() {
                msg.push(' ');
                msg.push_str(c.name());
            }
            msg.push_str(" (or a source below them, such as kvm/<vm>/vcpu0)\n");
            text(StatusCode::BAD_REQUEST, msg)
        }
        (&Method::GET | &Method::HEAD, "/kvm-stats") => match subtree(registry, path.as_deref()) {
            Ok(s) => {
                let mut r = Response::new(Full::new(Bytes::from(
                    statsfs_kvm_binary::encode_source(&s),
                )));
                r.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                r
            }
            Err(r) => r,
        },
        (&Method::GET | &Method::HEAD, "/schema.json") => {
            json_response(&json::schema(registry.root(), &config.prefix))
        }
        (&Method::POST, "/clear") => {
            if !config.allow_clear {
                return text(
                    StatusCode::FORBIDDEN,
                    "clear over HTTP is disabled (start the server with allow_clear)\n",
                );
            }
            // The body is not used; refuse large or slow ones without waiting for them.
            let body = Limited::new(req.into_body(), MAX_BODY_BYTES).collect();
            match tokio::time::timeout(config.body_timeout, body).await {
                Ok(Ok(_)) => {}
                Ok(Err(_)) => {
                    return closing(text(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n"))
                }
                Err(_) => {
                    return closing(text(
                        StatusCode::REQUEST_TIMEOUT,
                        "request body not received in time\n",
                    ))
                }
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
        (_, "/metrics" | "/snapshot.json" | "/schema.json" | "/kvm-stats") => {
            not_allowed("GET, HEAD")
        }
        (_, "/clear") => not_allowed("POST"),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /metrics, /snapshot.json, /schema.json\n",
        ),
    }
}
