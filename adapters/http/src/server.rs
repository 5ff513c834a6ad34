//! Serving the router over TCP, with limits against slow and stalled clients: a connection
//! whose request head has not fully arrived within [`ServerLimits::header_read_timeout`] is
//! closed (hyper's header-read timeout, which needs a timer that `axum::serve` does not give
//! it), and a request not answered within [`ServerLimits::request_timeout`], its body included,
//! gets a 408 (see `router_with`). Header floods are hyper's to refuse: more than 100 headers,
//! or a head larger than its read buffer, is answered 431 and the connection closed.
//!
//! How strictly requests are read (decided with a hostile tester's findings): an HTTP/1.1
//! request must carry exactly one `Host` header, as RFC 9112 (3.2) requires a server to enforce;
//! anything else is a 400 here. Accepted as the RFC allows: a bare LF ending a line (a recipient
//! MAY accept it, and hyper does; obliged routes on the path alone, so there is no second
//! reading of the head to disagree with) and the absolute form of a request target (RFC 9112,
//! 3.2.2: a server MUST accept it; obliged serves one site and ignores the authority). A proxy in
//! front (TLS termination) should normalize both.

use std::future::Future;
use std::io;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::AppState;

/// How long a client may take to send a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// From the first byte of a request (or an idle keep-alive connection) to the end of its
    /// head; past it the connection is closed without an answer.
    pub header_read_timeout: Duration,
    /// From the request head to the response head; past it the answer is 408.
    pub request_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Refuses an HTTP/1.1 request without exactly one `Host` header (RFC 9112, section 3.2).
async fn one_host(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let hosts = request
        .headers()
        .get_all(axum::http::header::HOST)
        .iter()
        .count();
    if request.version() == axum::http::Version::HTTP_11 && hosts != 1 {
        return crate::ApiError::bad_request(
            "invalid-host",
            format!("an HTTP/1.1 request carries exactly one Host header, not {hosts}"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Serves the API on `listener` with the default [`ServerLimits`] until `shutdown` completes,
/// then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with(listener, state, ServerLimits::default(), shutdown).await
}

/// Serves the API on `listener` until `shutdown` completes, then stops accepting, ends the
/// event streams and waits for the connections still open to finish their requests.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let stopping = state.shutdown.clone();
    serve_router(
        listener,
        crate::router_with(state, limits),
        stopping,
        limits,
        shutdown,
    )
    .await
}

/// Serves `router` (the API, or the API with the web console around it) with the same limits;
/// `stopping` turns true when the server stops accepting, so that streams end. Each request
/// carries the peer's address as [`axum::extract::ConnectInfo`].
pub async fn serve_router(
    listener: TcpListener,
    router: axum::Router,
    stopping: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let router = router.layer(axum::middleware::from_fn(one_host));
    let mut connections = http1::Builder::new();
    connections
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(
            tower::ServiceBuilder::new()
                .map_request(move |mut request: axum::extract::Request<_>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    request
                })
                .service(router.clone()),
        );
        let connection =
            graceful.watch(connections.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
    drop(listener);
    // End the event streams, or the graceful shutdown would wait for them forever.
    stopping.send_replace(true);
    graceful.shutdown().await;
    Ok(())
}

/// An accept error of one connection (reset before it was accepted) says nothing about the
/// listener; anything else, such as running out of file descriptors, would repeat at once, so
/// the loop pauses before accepting again.
async fn accept_failed(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
