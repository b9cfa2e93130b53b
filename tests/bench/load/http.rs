//! The load bench's own HTTP/1.1 client for its measured phases: one request written in one
//! `write`, its answer read with its `Content-Length`, the connection kept for the next.
//!
//! Why not reqwest, which sets the fixture up: the bench's client runs on the same two
//! processors as the node and PostgreSQL. With reqwest, and a JSON tree built for every body
//! sent and every answer, it took 16–20% of a processor at 1,000 requests a second, 8–11% of it
//! in its own code; with this client 10–14%, 2–4% in its own code (the rest is the kernel's
//! loopback). A node's clients are on other machines; this one should take as little as it can
//! of the machine it measures. See "The bench's own client" in docs/performance.md.

use std::io::{Error, ErrorKind, Write};
use std::net::SocketAddr;
use std::sync::Mutex;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An answer: its status and its body.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// POSTs JSON to one address and path over kept-alive connections, as many as are in flight.
pub struct Client {
    addr: SocketAddr,
    /// `host:port`, for the `Host` header.
    host: String,
    path: String,
    /// Connections between requests; the last one back is the next one out, so a steady load
    /// keeps using a few warm ones.
    idle: Mutex<Vec<TcpStream>>,
}

impl Client {
    /// For `http://host:port/path`, the only form the bench makes.
    pub fn new(url: &str) -> Self {
        let rest = url
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("the bench's client speaks plain http: {url}"));
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        Client {
            addr: host
                .parse()
                .unwrap_or_else(|_| panic!("an address and a port, not a name: {host}")),
            host: host.to_owned(),
            path: if path.is_empty() { "/" } else { path }.to_owned(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// POSTs `body` with `token` as its bearer.
    pub async fn post(&self, token: &str, body: &[u8]) -> std::io::Result<Reply> {
        let mut request = Vec::with_capacity(256 + token.len() + body.len());
        write!(
            request,
            "POST {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.path,
            self.host,
            body.len()
        )?;
        request.extend_from_slice(body);
        let kept = self
            .idle
            .lock()
            .map_err(|_| Error::other("poisoned"))?
            .pop();
        if let Some(mut conn) = kept {
            match exchange(&mut conn, &request).await {
                Ok((reply, keep)) => {
                    self.give_back(conn, keep)?;
                    return Ok(reply);
                }
                // The node closed it while it sat idle (its keep-alive ran out): it never read
                // this request, so it goes again on a new connection, as any client does.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof || is_reset(&e) => {}
                Err(e) => return Err(e),
            }
        }
        let mut conn = TcpStream::connect(self.addr).await?;
        conn.set_nodelay(true)?;
        let (reply, keep) = exchange(&mut conn, &request).await?;
        self.give_back(conn, keep)?;
        Ok(reply)
    }

    fn give_back(&self, conn: TcpStream, keep: bool) -> std::io::Result<()> {
        if keep {
            self.idle
                .lock()
                .map_err(|_| Error::other("poisoned"))?
                .push(conn);
        }
        Ok(())
    }
}

fn is_reset(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted
    )
}

/// Writes `request` and reads its answer; `UnexpectedEof` when the connection closed before a
/// byte of it came. The flag says whether the connection can carry another request.
async fn exchange(conn: &mut TcpStream, request: &[u8]) -> std::io::Result<(Reply, bool)> {
    conn.write_all(request).await?;
    let mut buf = Vec::with_capacity(4096);
    let head = loop {
        if conn.read_buf(&mut buf).await? == 0 {
            let kind = if buf.is_empty() {
                ErrorKind::UnexpectedEof
            } else {
                ErrorKind::InvalidData
            };
            return Err(Error::new(kind, "closed before the answer's head ended"));
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let text = std::str::from_utf8(&buf[..head])
        .map_err(|_| Error::new(ErrorKind::InvalidData, "a head that is not text"))?;
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::new(ErrorKind::InvalidData, "no status line"))?;
    let (mut length, mut keep) = (None, true);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("connection") {
            keep = !value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // The node sizes every answer it makes; one that does not is a change to look at.
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!("a {value} answer: the bench's client reads only sized ones"),
            ));
        }
    }
    let length = length
        .ok_or_else(|| Error::new(ErrorKind::InvalidData, "an answer without Content-Length"))?;
    while buf.len() < head + length {
        if conn.read_buf(&mut buf).await? == 0 {
            return Err(Error::new(
                ErrorKind::InvalidData,
                "closed in the middle of an answer",
            ));
        }
    }
    // Nothing was asked after this one, so nothing more can have come.
    buf.drain(..head);
    buf.truncate(length);
    Ok((Reply { status, body: buf }, keep))
}
