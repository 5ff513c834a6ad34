//! A TCP forwarder to the NATS server that a test can take down and bring back, to make NATS
//! unreachable for the publisher without touching the server other tests share.
//!
//! While the proxy is down its port stays bound (nothing else can take it) but nothing listens,
//! so connections are refused, and every connection it was forwarding has been cut. Up again,
//! it listens on the same port and forwards new connections.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

pub struct Proxy {
    /// `nats://127.0.0.1:PORT`
    pub url: String,
    address: SocketAddr,
    upstream: String,
    state: State,
}

enum State {
    /// Bound, not listening: connections are refused.
    Down(TcpSocket),
    /// Listening; the task accepts and forwards, and owns every forwarding task. It stops when
    /// the sender fires.
    Up(JoinHandle<()>, oneshot::Sender<()>),
    /// Between the two, only while switching.
    Switching,
}

fn bound(address: SocketAddr) -> TcpSocket {
    let socket = TcpSocket::new_v4().expect("socket");
    // The connections cut when the proxy went down linger in TIME_WAIT on this port.
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.bind(address).expect("bind the proxy's port");
    socket
}

impl Proxy {
    /// A proxy to `upstream` (a `nats://host:port` URL), down until [`Proxy::up`].
    pub fn down(upstream: &str) -> Self {
        let socket = bound("127.0.0.1:0".parse().expect("address"));
        let address = socket.local_addr().expect("the bound address");
        let upstream = upstream
            .strip_prefix("nats://")
            .unwrap_or(upstream)
            .to_owned();
        Self {
            url: format!("nats://{address}"),
            address,
            upstream,
            state: State::Down(socket),
        }
    }

    /// Starts listening and forwarding.
    pub fn up(&mut self) {
        let State::Down(socket) = std::mem::replace(&mut self.state, State::Switching) else {
            panic!("the proxy is already up");
        };
        let listener = socket.listen(128).expect("listen");
        let (cut, cut_off) = oneshot::channel();
        let task = tokio::spawn(forward(listener, self.upstream.clone(), cut_off));
        self.state = State::Up(task, cut);
    }

    /// Cuts every forwarded connection and refuses new ones.
    pub async fn cut(&mut self) {
        let State::Up(task, cut) = std::mem::replace(&mut self.state, State::Switching) else {
            panic!("the proxy is already down");
        };
        let _ = cut.send(());
        // When the task returns, its listener is closed and every connection it forwarded too.
        task.await.expect("the proxy task");
        self.state = State::Down(bound(self.address));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let State::Up(task, _) = &self.state {
            task.abort();
        }
    }
}

async fn forward(listener: TcpListener, upstream: String, mut cut: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut cut => {
                // Aborts every forwarding task and waits until each is gone, sockets closed;
                // the listener closes on return.
                connections.shutdown().await;
                return;
            }
            accepted = listener.accept() => {
                let Ok((mut inbound, _)) = accepted else { continue };
                let upstream = upstream.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
