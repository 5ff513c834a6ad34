//! Serving the router over TCP, with limits against slow and stalled clients: a connection
//! whose request head has not fully arrived within [`ServerLimits::header_read_timeout`] is
//! closed (hyper's header-read timeout, which needs a timer that `axum::serve` does not give
//! it), and a request not answered within [`ServerLimits::request_timeout`], its body included,
//! gets a 408 (see `router_with`). Header floods are hyper's to refuse: more than 100 headers,
//! or a head larger than its read buffer, is answered 431 and the connection closed.

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
    let service = TowerToHyperService::new(crate::router_with(state, limits));
    let mut connections = http1::Builder::new();
    connections
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection =
            graceful.watch(connections.serve_connection(TokioIo::new(stream), service.clone()));
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
