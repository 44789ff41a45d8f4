//! How berth reaches a daemon: a unix socket, plain TCP, TCP with mutual TLS, or
//! `ssh … docker system dial-stdio` (as the docker CLI does). [`Transport::dial`] opens one
//! byte stream; bollard speaks HTTP over it through [`Transport::docker`] (a custom
//! transport), and the log reader reads its own streams off the same dial.
//!
//! Written by hand over bollard's own TLS and SSH clients: its TLS connector reads keys
//! from files (ours are sealed at rest and only opened in memory) and says little about
//! which certificate failed; its SSH client needs the `openssh` crate and an ssh master
//! process per host, where the CLI's way (one `ssh` per connection) needs nothing but
//! the system `ssh`.

use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use bollard::{BollardRequest, Docker};
use hyper_util::rt::TokioIo;
use std::future::Future;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use super::tls;

/// How long opening a connection (TCP, TLS handshake, ssh login) may take.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(3);

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An ssh destination and what to log in with.
pub struct Ssh {
    /// `user@host`.
    pub dest: String,
    pub port: Option<u16>,
    /// The private key, in a memory-backed file of ours (mode 0600), removed with it.
    pub key: Option<tempfile::NamedTempFile>,
    pub known_hosts: Option<tempfile::NamedTempFile>,
}

/// Where a daemon is.
pub enum Transport {
    Unix(PathBuf),
    /// `host:port`.
    Tcp(String),
    Tls {
        addr: String,
        server_name: rustls_pki_types::ServerName<'static>,
        config: Arc<rustls::ClientConfig>,
    },
    Ssh(Ssh),
    /// The environment's settings cannot be used (a bad URL, a key that does not open):
    /// every dial fails with this.
    Broken(String),
}

/// Why a dial failed: the stage (as `wire::ConnectionTest::stage` names it) and a message.
#[derive(Debug, Clone)]
pub struct DialError {
    pub stage: &'static str,
    pub message: String,
}

impl std::fmt::Display for DialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DialError {}

impl DialError {
    pub fn new(stage: &'static str, message: impl Into<String>) -> Self {
        DialError {
            stage,
            message: message.into(),
        }
    }

    fn io(self) -> io::Error {
        io::Error::other(self)
    }
}

impl Transport {
    /// Opens one connection to the daemon, within [`DIAL_TIMEOUT`].
    pub async fn dial(&self) -> Result<Box<dyn Io>, DialError> {
        match tokio::time::timeout(DIAL_TIMEOUT, self.dial_inner()).await {
            Ok(res) => res,
            Err(_) => Err(DialError::new(
                "timeout",
                format!("no connection within {} s", DIAL_TIMEOUT.as_secs()),
            )),
        }
    }

    async fn dial_inner(&self) -> Result<Box<dyn Io>, DialError> {
        match self {
            Transport::Unix(path) => tokio::net::UnixStream::connect(path)
                .await
                .map(|s| Box::new(s) as Box<dyn Io>)
                .map_err(|e| {
                    DialError::new(
                        "connect",
                        format!("cannot connect to {}: {e}", path.display()),
                    )
                }),
            Transport::Tcp(addr) => Ok(Box::new(tcp(addr).await?)),
            Transport::Tls {
                addr,
                server_name,
                config,
            } => {
                let stream = tcp(addr).await?;
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(server_name.clone(), stream)
                    .await
                    .map_err(|e| DialError::new("tls", tls::explain_io(&e)))?;
                Ok(Box::new(tls))
            }
            Transport::Ssh(ssh) => ssh_dial(ssh).await,
            Transport::Broken(why) => Err(DialError::new("url", why.clone())),
        }
    }

    /// A bollard client that dials through this transport for every request, with the
    /// API version not yet negotiated.
    pub fn docker(self: &Arc<Self>) -> Result<Docker, bollard::errors::Error> {
        let me = self.clone();
        Docker::connect_with_custom_transport(
            move |req: BollardRequest| {
                let me = me.clone();
                async move { me.send(req).await }
            },
            Some("http://docker"),
            120,
            bollard::API_DEFAULT_VERSION,
        )
    }

    /// One HTTP/1.1 exchange over a fresh connection, kept open for an upgrade (exec,
    /// attach) or a stream for as long as the response body lives.
    async fn send(
        &self,
        mut req: BollardRequest,
    ) -> Result<hyper::Response<hyper::body::Incoming>, bollard::errors::Error> {
        let io = self
            .dial()
            .await
            .map_err(|e| bollard::errors::Error::IOError { err: e.io() })?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(hyper_err)?;
        tokio::spawn(async move {
            // Ends with the response body or the upgraded stream.
            let _ = conn.with_upgrades().await;
        });
        // Origin-form, as a proxy-less client sends it.
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        *req.uri_mut() =
            path.parse()
                .map_err(|e: http::uri::InvalidUri| bollard::errors::Error::IOError {
                    err: io::Error::other(e),
                })?;
        req.headers_mut()
            .entry(http::header::HOST)
            .or_insert(http::HeaderValue::from_static("docker"));
        sender.send_request(req).await.map_err(hyper_err)
    }
}

/// A hyper error as an I/O error (so it maps to 503, "unavailable"), its message naming
/// the TLS cause when there is one (a refused client certificate shows up only here, on
/// the first read after a TLS 1.3 handshake).
fn hyper_err(e: hyper::Error) -> bollard::errors::Error {
    bollard::errors::Error::IOError {
        err: io::Error::other(tls::explain(&e).unwrap_or_else(|| chain(&e))),
    }
}

/// An error and its causes, joined.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

async fn tcp(addr: &str) -> Result<tokio::net::TcpStream, DialError> {
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| DialError::new("dns", format!("cannot resolve {addr}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(DialError::new("dns", format!("{addr} resolves to nothing")));
    }
    let mut last = None;
    for a in addrs {
        match tokio::net::TcpStream::connect(a).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    let e = last.map(|e| e.to_string()).unwrap_or_default();
    Err(DialError::new(
        "connect",
        format!("cannot connect to {addr}: {e}"),
    ))
}

/// `ssh … docker system dial-stdio`: the remote docker CLI relays its stdio to the
/// daemon's socket. A refused key or host key shows up as ssh exiting before it says
/// anything; its stderr is the message.
async fn ssh_dial(ssh: &Ssh) -> Result<Box<dyn Io>, DialError> {
    let mut cmd = tokio::process::Command::new("ssh");
    cmd.args([
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "ConnectTimeout=3",
        "-o",
        "ServerAliveInterval=5",
        "-o",
        "LogLevel=ERROR",
        "-F",
        "/dev/null",
    ]);
    if let Some(kh) = &ssh.known_hosts {
        cmd.arg("-o")
            .arg(format!("UserKnownHostsFile={}", kh.path().display()));
    }
    if let Some(key) = &ssh.key {
        cmd.arg("-o")
            .arg("IdentitiesOnly=yes")
            .arg("-i")
            .arg(key.path());
    }
    if let Some(port) = ssh.port {
        cmd.arg("-p").arg(port.to_string());
    }
    cmd.arg("--")
        .arg(&ssh.dest)
        .args(["docker", "system", "dial-stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            DialError::new(
                "ssh",
                "the ssh program is missing: install openssh-client on berth's host",
            )
        } else {
            DialError::new("ssh", format!("cannot start ssh: {e}"))
        }
    })?;
    let (Some(stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(DialError::new("ssh", "ssh started without pipes"));
    };
    // ssh says why it failed on stderr and then closes stdout: the stream keeps the
    // message for the read that finds that end, so the HTTP client reports it.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let dest = ssh.dest.clone();
    tokio::spawn(async move {
        let mut err = String::new();
        let _ = stderr.read_to_string(&mut err).await;
        let status = child
            .wait()
            .await
            .map(|s| s.to_string())
            .unwrap_or_default();
        let _ = tx.send(explain_ssh(&dest, err.trim(), &status));
    });
    Ok(Box::new(SshIo {
        out: stdout,
        inp: stdin,
        got_any: false,
        why: Some(rx),
    }))
}

/// ssh's stdout and stdin as one stream.
struct SshIo {
    out: tokio::process::ChildStdout,
    inp: tokio::process::ChildStdin,
    got_any: bool,
    why: Option<tokio::sync::oneshot::Receiver<String>>,
}

impl AsyncRead for SshIo {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        use std::task::Poll;
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut self.out).poll_read(cx, buf) {
            Poll::Ready(Ok(())) if buf.filled().len() == before && !self.got_any => {
                // The end before any answer: ssh failed. Wait for its message.
                let Some(rx) = self.why.as_mut() else {
                    return Poll::Ready(Ok(()));
                };
                match std::pin::Pin::new(rx).poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(msg) => {
                        self.why = None;
                        let msg = msg.unwrap_or_else(|_| "ssh ended".into());
                        Poll::Ready(Err(DialError::new("ssh", msg).io()))
                    }
                }
            }
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.got_any = true;
                }
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl AsyncWrite for SshIo {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.inp).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inp).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inp).poll_shutdown(cx)
    }
}

fn explain_ssh(dest: &str, stderr: &str, code: &str) -> String {
    if stderr.contains("Host key verification failed")
        || stderr.contains("REMOTE HOST IDENTIFICATION")
    {
        format!("{dest}: the host key is not the one given in known_hosts ({stderr})")
    } else if stderr.contains("Permission denied") {
        format!("{dest}: the ssh key was refused ({stderr})")
    } else if stderr.contains("docker: command not found") || stderr.contains("not found") {
        format!("{dest}: the docker CLI is missing on the host ({stderr})")
    } else if stderr.is_empty() {
        format!("{dest}: ssh ended ({code})")
    } else {
        format!("{dest}: {stderr}")
    }
}
