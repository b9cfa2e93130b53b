//! The stylesheet, embedded in the binary and served under a name that carries its content's
//! digest, so browsers may keep it for a year and a new release is fetched at once.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use alongside_core::secrets;

const CSS: &str = include_str!("../../assets/site.css");

/// The stylesheet's path, e.g. `/assets/site-3f2a9c1b0d4e.css`.
pub fn stylesheet_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| format!("/assets/site-{}.css", &secrets::sha256_hex(CSS)[..12]))
}

pub async fn asset(name: web::Path<String>) -> HttpResponse {
    if format!("/assets/{}", name.as_str()) != stylesheet_path() {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    }
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(CSS)
}
