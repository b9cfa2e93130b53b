//! A real browser for the pages: Debian's headless Chromium through its chromedriver, one of
//! each per test, and axe-core injected into every page checked. Screenshots of each page checked
//! are written at both widths to `$CARGO_TARGET_DIR/screenshots/` (or `target/screenshots/`).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use thirtyfour::prelude::*;

/// The two widths every page is checked at: a small phone and a desk.
pub const PHONE: u32 = 360;
pub const DESK: u32 = 1280;

struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Browser {
    pub driver: WebDriver,
    pub base: String,
    width: u32,
    _chromedriver: Chromedriver,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A string as an XPath literal (XPath 1.0 has no escapes: pick the other quote).
fn xpath_literal(text: &str) -> String {
    if text.contains('\'') {
        format!("\"{text}\"")
    } else {
        format!("'{text}'")
    }
}

fn axe_source() -> String {
    let path = std::env::var("AXE_CORE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("browser/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "axe-core is missing at {}: run `npm ci --prefix tests/browser` (bash .ci/run does)",
            path.display()
        )
    })
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

impl Browser {
    /// A fresh browser (no cookies) `width` pixels wide, asking for pages in `lang`.
    pub async fn open(base: &str, width: u32, lang: &str) -> Self {
        let driver_path =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = free_port();
        let child = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {driver_path} ({e}): install Debian's chromium and chromium-driver (bash .ci/run does)"
                )
            });
        let guard = Chromedriver(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut caps = DesiredCapabilities::chrome();
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        caps.set_binary(&binary).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            &format!("--lang={lang}"),
            &format!("--window-size={width},900"),
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_experimental_option("prefs", json!({ "intl.accept_languages": lang }))
            .unwrap();
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), caps)
            .await
            .expect("a Chromium session");
        driver
            .set_window_rect(0, 0, width, 900)
            .await
            .expect("window size");
        Self {
            driver,
            base: base.trim_end_matches('/').to_owned(),
            width,
            _chromedriver: guard,
        }
    }

    pub async fn visit(&self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        self.driver.goto(url).await.expect("page loads");
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.driver.current_url().await.expect("url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The text a person sees on the page.
    pub async fn text(&self) -> String {
        self.driver
            .find(By::Tag("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("text")
    }

    pub async fn fill(&self, id: &str, value: &str) {
        let field = self.driver.find(By::Id(id)).await.expect(id);
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    /// Chooses the option with `value` in the list whose id is `id`.
    pub async fn choose(&self, id: &str, value: &str) {
        self.driver
            .find(By::Css(format!("#{id} option[value='{value}']")))
            .await
            .unwrap_or_else(|_| panic!("no option {value} in #{id}"))
            .click()
            .await
            .expect("choose");
    }

    /// The value a field holds now.
    pub async fn value_of(&self, id: &str) -> String {
        self.driver
            .find(By::Id(id))
            .await
            .expect(id)
            .value()
            .await
            .expect("value")
            .unwrap_or_default()
    }

    /// Ticks a radio button or check box by its id (through its label, as a person taps it).
    pub async fn tick(&self, id: &str) {
        let label = self
            .driver
            .find(By::Css(format!("label[for='{id}']")))
            .await
            .unwrap_or_else(|_| panic!("label for {id}"));
        label.scroll_into_view().await.expect("scroll");
        label.click().await.expect("tap label");
    }

    /// Presses the button (or link) whose visible text is `label`.
    pub async fn press(&self, label: &str) {
        // A button first: "Sign in" is both the menu's link and the form's button.
        let button = self
            .driver
            .find(By::XPath(format!(
                "//button[normalize-space()={}]",
                xpath_literal(label)
            )))
            .await;
        let target = match button {
            Ok(b) => b,
            Err(_) => match self
                .driver
                .find(By::XPath(format!(
                    "//a[normalize-space()={}]",
                    xpath_literal(label)
                )))
                .await
            {
                Ok(a) => a,
                // The page it was looked for on, and its text, say why it was not there.
                Err(_) => {
                    let at = self.driver.current_url().await.map(|u| u.to_string());
                    let text = self.text().await;
                    panic!("no button or link {label:?} on {at:?}:\n{text}")
                }
            },
        };
        target.scroll_into_view().await.expect("scroll");
        self.driver
            .execute("window.__before_press = true;", vec![])
            .await
            .expect("mark the page");
        target.click().await.expect("press");
        self.wait_for_new_page(label).await;
    }

    /// Waits until the page marked before a press has been replaced and the new one has loaded.
    pub async fn wait_for_new_page(&self, what: &str) {
        for _ in 0..200 {
            let done = self
                .driver
                .execute(
                    "return window.__before_press !== true && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .ok()
                .and_then(|r| r.json().as_bool());
            if done == Some(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("pressing {what:?} did not load a new page");
    }

    /// The session cookie as the browser holds it.
    pub async fn cookies(&self) -> Vec<thirtyfour::Cookie> {
        self.driver.get_all_cookies().await.expect("cookies")
    }

    /// axe-core's serious and critical violations on the page shown.
    pub async fn axe(&self) -> Vec<String> {
        self.driver
            .execute(axe_source(), vec![])
            .await
            .expect("axe-core loads");
        let result = self
            .driver
            .execute(
                "return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } }).then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', ')));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        let value: Value = result.json().clone();
        value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Checks the page shown at both widths (axe-core, and that nothing is wider than the
    /// screen), writes a screenshot at each, and returns to this browser's width.
    pub async fn check_page(&self, name: &str) {
        for width in [self.width, if self.width == PHONE { DESK } else { PHONE }] {
            self.driver
                .set_window_rect(0, 0, width, 900)
                .await
                .expect("resize");
            let violations = self.axe().await;
            assert!(
                violations.is_empty(),
                "axe-core on {name} at {width} px: {violations:#?}"
            );
            let overflow = self
                .driver
                .execute(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                    vec![],
                )
                .await
                .expect("measure");
            let overflow = overflow.json().as_i64().unwrap_or(0);
            assert!(
                overflow <= 0,
                "{name} is {overflow} px wider than {width} px"
            );
            // The whole page in one picture: the window as tall as the page (up to a limit).
            let height = self
                .driver
                .execute("return document.documentElement.scrollHeight;", vec![])
                .await
                .expect("measure height");
            let height = height.json().as_u64().unwrap_or(900).clamp(900, 4000) as u32;
            self.driver
                .set_window_rect(0, 0, width, height)
                .await
                .expect("resize for the picture");
            let png = self.driver.screenshot_as_png().await.expect("screenshot");
            std::fs::write(screenshot_dir().join(format!("{name}-{width}.png")), png)
                .expect("write screenshot");
        }
        self.driver
            .set_window_rect(0, 0, self.width, 900)
            .await
            .expect("resize back");
    }

    pub async fn quit(self) {
        let _ = self.driver.clone().quit().await;
    }
}
