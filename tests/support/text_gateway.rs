//! A text-message gateway served by the test on a loopback port, speaking the widely used
//! messages REST shape (form-encoded `From`, `To`, `Body` with basic auth). It records every
//! request, answers each by a script (fail, hang past the client's timeout, accept), and hands a
//! message to "the phone" once per `Idempotency-Key`, as a gateway that honours the key does.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Points a node's text messages at a gateway on loopback `port`, with the credentials the
/// gateway expects (account `AC0001`, token `gateway-secret`, from `+15550100000`).
pub fn point_at(c: &mut alongside_api::config::Config, port: u16) {
    c.text_messages.gateway = "messages_api".into();
    c.text_messages.base_url = Some(format!("http://127.0.0.1:{port}/2010-04-01"));
    c.text_messages.account = Some("AC0001".into());
    c.text_messages.token = Some("gateway-secret".into());
    c.text_messages.from = Some("+15550100000".into());
}

/// How the gateway answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// 500, nothing sent.
    Fail,
    /// Sent to the phone, then no answer until the client has given up.
    Hang(Duration),
    /// Sent, 201.
    Accept,
}

/// One request as the gateway saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub authorization: String,
    pub key: String,
    pub from: String,
    pub to: String,
    pub body: String,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Answer>,
    requests: Vec<Received>,
    phone: Vec<Received>,
}

#[derive(Clone)]
pub struct TextGateway {
    inner: Arc<Mutex<Inner>>,
}

fn form_value(form: &str, name: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(form)
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

impl TextGateway {
    /// Starts answering on `port` (bind it late to play a gateway that was down). After the
    /// script runs out, it accepts everything.
    pub async fn serve(port: u16, script: Vec<Answer>) -> Self {
        let gateway = Self {
            inner: Arc::new(Mutex::new(Inner {
                script: script.into(),
                ..Inner::default()
            })),
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let g = gateway.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let g = g.clone();
                tokio::spawn(async move { g.answer(sock).await });
            }
        });
        gateway
    }

    async fn answer(&self, mut sock: tokio::net::TcpStream) {
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        let (head, body) = loop {
            let Ok(n) = sock.read(&mut buf).await else {
                return;
            };
            if n == 0 {
                return;
            }
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let head = text[..end].to_owned();
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if raw.len() >= end + 4 + length {
                    break (
                        head,
                        String::from_utf8_lossy(&raw[end + 4..end + 4 + length]).to_string(),
                    );
                }
            }
        };
        let header = |name: &str| {
            head.lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                })
                .unwrap_or_default()
        };
        let received = Received {
            path: head
                .lines()
                .next()
                .and_then(|l| l.split(' ').nth(1))
                .unwrap_or_default()
                .to_owned(),
            authorization: header("authorization"),
            key: header("idempotency-key"),
            from: form_value(&body, "From"),
            to: form_value(&body, "To"),
            body: form_value(&body, "Body"),
        };
        let answer = {
            let mut inner = self.inner.lock().unwrap();
            inner.requests.push(received.clone());
            let answer = inner.script.pop_front().unwrap_or(Answer::Accept);
            if !matches!(answer, Answer::Fail) && !inner.phone.iter().any(|m| m.key == received.key)
            {
                inner.phone.push(received);
            }
            answer
        };
        let reply: &[u8] = match answer {
            Answer::Fail => b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            Answer::Hang(d) => {
                tokio::time::sleep(d).await;
                b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
            }
            Answer::Accept => {
                b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
            }
        };
        let _ = sock.write_all(reply).await;
    }

    /// Every request the gateway answered, retries included.
    pub fn requests(&self) -> Vec<Received> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// What the phone shows: one message per idempotency key.
    pub fn phone(&self) -> Vec<Received> {
        self.inner.lock().unwrap().phone.clone()
    }
}
