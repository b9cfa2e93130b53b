//! Logging and tracing. Logs carry ids and codes, never names, emails or anything about an
//! event. When `observability.otlp_endpoint` is set, spans (requests, GraphQL operations,
//! database calls, federation calls) are also exported over OTLP/HTTP, and the W3C
//! `traceparent` of incoming requests and outgoing federation calls joins them into one trace
//! across nodes.

use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::{KeyValue, global};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Where and how to send traces.
#[derive(Debug, Clone, Default)]
pub struct Otlp {
    /// Base URL of an OTLP/HTTP collector, e.g. `http://127.0.0.1:4318`; traces go to its
    /// `/v1/traces`. `None`: nothing is exported.
    pub endpoint: Option<String>,
    /// This node's id, as the `alongside.node` resource attribute.
    pub node_id: String,
    /// Which spans go out (an `EnvFilter` directive).
    pub filter: String,
}

/// Keeps the exporter alive; [`Telemetry::shutdown`] sends what is buffered.
#[must_use = "dropping it stops exporting"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes spans still in the batch. Called when `serve` stops.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            eprintln!("OpenTelemetry: could not flush the last spans: {e}");
        }
    }
}

/// Set once the OTLP pipeline is installed: request spans then take their parent and trace id
/// from OpenTelemetry rather than from the header alone.
static EXPORTING: OnceLock<()> = OnceLock::new();

/// Installs the global subscriber once; later calls (tests) install nothing. An unusable OTLP
/// endpoint is reported and the node runs without export: tracing must never stop the node.
pub fn init(format: &str, otlp: &Otlp) -> Telemetry {
    use std::io::IsTerminal as _;
    // Colour codes only for a person at a terminal, never into a pipe or a log collector.
    let ansi = std::io::stderr().is_terminal();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let fmt: Box<dyn Layer<Registry> + Send + Sync> = if format == "json" {
        Box::new(fmt.json().with_filter(filter()))
    } else {
        Box::new(fmt.with_filter(filter()))
    };
    let (provider, problem) = match otlp.endpoint.as_deref().map(|e| exporter(e, otlp)) {
        None => (None, None),
        Some(Ok(p)) => (Some(p), None),
        Some(Err(e)) => (None, Some(e)),
    };
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("alongside"))
            .with_threads(false)
            .with_filter(EnvFilter::new(&otlp.filter))
    });
    let installed = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init()
        .is_ok();
    if let Some(e) = problem {
        tracing::error!(error = %e, "OpenTelemetry export is off: the OTLP endpoint is not usable");
    }
    if installed && let Some(endpoint) = &otlp.endpoint {
        if provider.is_some() {
            global::set_text_map_propagator(TraceContextPropagator::new());
            let _ = EXPORTING.set(());
            tracing::info!(endpoint = %endpoint, "exporting traces over OTLP/HTTP");
        }
        return Telemetry { provider };
    }
    Telemetry { provider: None }
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_env("ALONGSIDE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"))
}

/// Logs to a file, without colour, leaving the terminal to what a person reads (the demo).
pub fn init_to_file(path: &std::path::Path) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_filter(filter());
    let _ = tracing_subscriber::registry().with(fmt).try_init();
    Ok(())
}

fn exporter(endpoint: &str, otlp: &Otlp) -> Result<SdkTracerProvider, String> {
    let base = endpoint.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(format!(
            "observability.otlp_endpoint must be an http:// or https:// URL, not {base:?}"
        ));
    }
    let url = if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    };
    // The exporter's HTTP client needs the process's TLS provider, even for http:// URLs.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(url)
        .with_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let resource = Resource::builder()
        .with_service_name("alongside")
        .with_attribute(KeyValue::new("alongside.node", otlp.node_id.clone()))
        .with_attribute(KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION").to_owned(),
        ))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Makes `span` part of the trace the caller's `traceparent` names, and returns the trace id to
/// log. Without export, the trace id is the caller's (if any), so logs still join up.
pub fn join_trace(span: &tracing::Span, headers: &HeaderMap) -> String {
    if EXPORTING.get().is_some() {
        let parent = TraceContextPropagator::new().extract(&Headers(headers));
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
        }
        let cx = span.context();
        let ctx = cx.span().span_context().clone();
        if ctx.is_valid() {
            return ctx.trace_id().to_string();
        }
    }
    headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split('-').nth(1))
        .filter(|t| t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or("")
        .to_owned()
}
