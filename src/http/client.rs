//! The HTTP client the runner and the recorder send with: any method, any headers, raw bytes,
//! a per-request timeout, and a cap on how much of a response body is read, so that a
//! misbehaving endpoint can neither hang a run nor exhaust memory.
//!
//! Each client carries a run id (see `run_id.rs`) that it sends with every request, so that a
//! replay server keeps one run's sequence positions apart from another's. A client for real
//! AWS is built [`without_run_id`](Client::without_run_id): nothing extra goes to AWS.

use std::sync::Arc;
use std::time::Duration;

use super::sign::Signer;
use crate::case::SignatureMode;
use crate::exchange::{Headers, RUN_ID_HEADER, Request, Response, header_text};

#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Largest response body read; more is an error.
    pub max_body: usize,
    /// Connections kept open per host (0 = reqwest's default).
    pub pool_size: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            max_body: 10 * 1024 * 1024,
            pool_size: 0,
        }
    }
}

/// Sends requests to one endpoint.
#[derive(Clone)]
pub struct Client {
    inner: reqwest::Client,
    base: String,
    /// `base` with the path `/`, parsed once: most requests go to it, and are sent a copy
    /// instead of a URL parsed again from text.
    root: reqwest::Url,
    signer: Option<Arc<dyn Signer>>,
    options: ClientOptions,
    /// Sent in [`RUN_ID_HEADER`] with every request; clones share it (one invocation, one run).
    run_id: Option<String>,
}

/// Why no response came back. Messages say what happened in a user's words and never carry
/// credentials (signing happens before; errors only ever see the endpoint URL).
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("connection refused by {0}: is the endpoint running?")]
    Refused(String),
    #[error("no response within {0:?} (the request timeout; change it with --timeout)")]
    Timeout(Duration),
    #[error("response body larger than {limit} bytes; conform stopped reading it")]
    TooLarge { limit: usize },
    #[error("{0}")]
    Sign(#[from] super::sign::SignError),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("connection failed: {0}")]
    Failed(String),
}

impl Client {
    /// `base` is the endpoint URL (`http://127.0.0.1:4566`); request paths are appended to it.
    pub fn new(
        base: &str,
        signer: Option<Arc<dyn Signer>>,
        options: ClientOptions,
    ) -> Result<Self, TransportError> {
        let parsed = reqwest::Url::parse(base)
            .map_err(|e| TransportError::Invalid(format!("endpoint URL {base:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(TransportError::Invalid(format!(
                "endpoint URL {base:?}: expected http://host[:port] or https://host[:port]"
            )));
        }
        let mut builder = reqwest::Client::builder()
            // conform sends exactly the headers a case says: no decompression, no redirects,
            // no proxies picked up from the environment for loopback targets.
            .redirect(reqwest::redirect::Policy::none())
            // Nor does it send a request twice: reqwest's default retries an HTTP/2 request
            // the server refused, which would hide that from the verdict, and readies a copy
            // of every request for it (its headers cloned per request).
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .no_proxy()
            .tcp_nodelay(true);
        if options.pool_size > 0 {
            builder = builder.pool_max_idle_per_host(options.pool_size);
        }
        let inner = builder
            .build()
            .map_err(|e| TransportError::Invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            inner,
            base: base.trim_end_matches('/').to_owned(),
            root: parsed,
            signer,
            options,
            run_id: Some(super::run_id::fresh_run_id()),
        })
    }

    /// The same client, sending no run id: for real AWS, which is sent nothing conform does
    /// not need.
    pub fn without_run_id(mut self) -> Self {
        self.run_id = None;
        self
    }

    /// The same client, sending this run id instead of its fresh one (tests, and callers that
    /// want several clients in one run).
    pub fn with_run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    /// The run id sent with every request, if any.
    pub fn run_id(&self) -> Option<&str> {
        self.run_id.as_deref()
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn is_signing(&self) -> bool {
        self.signer.is_some()
    }

    /// Why this client cannot send a request signed in `mode`, if it cannot (see
    /// [`Signer::unavailable`]). Unsigned clients send every mode (unsigned).
    pub fn unavailable(&self, mode: SignatureMode) -> Option<String> {
        self.signer.as_ref().and_then(|s| s.unavailable(mode))
    }

    /// Signs (if this client signs) and sends. Returns the request as sent, so that callers
    /// can report or record it (redact it first: it may hold a signature).
    pub async fn send(
        &self,
        mut request: Request,
        mode: SignatureMode,
        timeout: Duration,
    ) -> (Request, Result<Response, TransportError>) {
        let url = format!("{}{}", self.base, request.path);
        // Set before signing, and not signed: the signer signs a fixed list of headers, so the
        // run id never changes a signature (an emulator checking signatures ignores it).
        match &self.run_id {
            Some(id) => request.headers.set(RUN_ID_HEADER, id.as_str()),
            // Whatever a case or recording carried, it is not sent where no run id belongs.
            None => request.headers.remove(RUN_ID_HEADER),
        }
        if let Some(signer) = &self.signer
            && let Err(e) = signer.sign(&mut request, &url, mode)
        {
            return (request, Err(e.into()));
        }
        let result = tokio::time::timeout(timeout, self.send_now(&request, &url))
            .await
            .unwrap_or(Err(TransportError::Timeout(timeout)));
        (request, result)
    }

    async fn send_now(&self, request: &Request, url: &str) -> Result<Response, TransportError> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| TransportError::Invalid(format!("bad method {:?}", request.method)))?;
        let mut builder = if url == self.root.as_str() {
            self.inner.request(method, self.root.clone())
        } else {
            self.inner.request(method, url)
        };
        for (name, value) in request.headers.iter() {
            builder = builder.header(name, value);
        }
        let built = builder
            .body(request.body.clone())
            .build()
            .map_err(|e| TransportError::Invalid(describe(&e)))?;
        let mut response = self
            .inner
            .execute(built)
            .await
            .map_err(|e| classify(&e, url))?;
        let status = response.status().as_u16();
        let mut headers = Headers::with_capacity(response.headers().len());
        for (name, value) in response.headers() {
            headers.append(name.as_str(), header_text(value.as_bytes()));
        }
        let limit = self.options.max_body;
        if response
            .content_length()
            .is_some_and(|n| n as usize > limit)
        {
            return Err(TransportError::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, url))? {
            if body.len() + chunk.len() > limit {
                return Err(TransportError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn classify(e: &reqwest::Error, url: &str) -> TransportError {
    let chain = describe(e);
    if e.is_connect() && chain.contains("refused") {
        return TransportError::Refused(url.to_owned());
    }
    if e.is_body() || e.is_decode() {
        return TransportError::Failed(format!("the response broke off: {chain}"));
    }
    TransportError::Failed(chain)
}

/// The error and its causes on one line: reqwest's own message alone is often just
/// "error sending request" (and aws-config's say little more).
pub fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
