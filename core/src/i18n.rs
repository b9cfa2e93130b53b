//! Every word a person reads comes from a message catalogue (Project Fluent), one file per
//! language and area under `core/locales/`, embedded in the binary. Fluent was chosen because its
//! messages carry their own plural and gender rules per language, so a translator never asks a
//! programmer for a new branch; see docs/architecture.md.
//!
//! A missing message shows its key (never a blank), and the catalogue check in CI makes sure no
//! shipped language lacks one.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language the node ships complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Locale {
    En,
    Es,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Es];

    /// The language's name in itself, as the choice of language shows it: fixed for each
    /// language, and kept here so that showing the choice parses no language's messages.
    pub fn own_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Es => "Español",
        }
    }

    /// Where this language stands in [`Locale::ALL`].
    fn index(self) -> usize {
        match self {
            Self::En => 0,
            Self::Es => 1,
        }
    }

    /// The BCP 47 tag, also the page's `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
        }
    }

    /// A tag such as `es`, `es-MX` or `EN-us`; only the language part counts.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|l| l.tag() == primary)
    }

    /// The best shipped language for an `Accept-Language` header, by its quality values.
    pub fn negotiate(accept_language: &str) -> Option<Self> {
        let mut best: Option<(f32, usize, Locale)> = None;
        for (i, part) in accept_language.split(',').enumerate().take(32) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default().trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let Some(locale) = Locale::parse(tag) else {
                continue;
            };
            if q <= 0.0 {
                continue;
            }
            // Higher quality wins; among equals, the one listed first.
            if best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && i < bi)) {
                best = Some((q, i, locale));
            }
        }
        best.map(|(_, _, l)| l)
    }
}

/// The language to speak to someone in, decided once for pages, emails and the API: the one
/// their profile names, then the best their browser or app asks for (`Accept-Language`,
/// negotiated), then the institution's default; `None` when none of these is given.
pub fn reader_language(
    profile: Option<Locale>,
    accept_language: Option<Locale>,
    default: Option<Locale>,
) -> Option<Locale> {
    profile.or(accept_language).or(default)
}

/// The shipped catalogue files: (language, file name, text).
pub const FILES: &[(Locale, &str, &str)] = &[
    (
        Locale::En,
        "pages.ftl",
        include_str!("../locales/en/pages.ftl"),
    ),
    (
        Locale::En,
        "emails.ftl",
        include_str!("../locales/en/emails.ftl"),
    ),
    (
        Locale::En,
        "console.ftl",
        include_str!("../locales/en/console.ftl"),
    ),
    (
        Locale::En,
        "readiness.ftl",
        include_str!("../locales/en/readiness.ftl"),
    ),
    (Locale::En, "api.ftl", include_str!("../locales/en/api.ftl")),
    (
        Locale::En,
        "cards.ftl",
        include_str!("../locales/en/cards.ftl"),
    ),
    (
        Locale::Es,
        "pages.ftl",
        include_str!("../locales/es/pages.ftl"),
    ),
    (
        Locale::Es,
        "emails.ftl",
        include_str!("../locales/es/emails.ftl"),
    ),
    (
        Locale::Es,
        "console.ftl",
        include_str!("../locales/es/console.ftl"),
    ),
    (
        Locale::Es,
        "readiness.ftl",
        include_str!("../locales/es/readiness.ftl"),
    ),
    (Locale::Es, "api.ftl", include_str!("../locales/es/api.ftl")),
    (
        Locale::Es,
        "cards.ftl",
        include_str!("../locales/es/cards.ftl"),
    ),
];

/// An argument to a message.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Number(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}

/// Every shipped language's messages. A language is parsed the first time someone reads it:
/// parsed, one language's messages hold some 0.7 MiB (#22, docs/performance.md), and a node
/// whose readers all read English never needs the others.
pub struct Catalogue {
    bundles: [OnceLock<FluentBundle<FluentResource>>; Locale::ALL.len()],
    /// An institution's own wording for each language, checked when the node starts and laid
    /// over the shipped messages when that language is parsed.
    overrides: BTreeMap<Locale, Vec<String>>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue").finish_non_exhaustive()
    }
}

/// The catalogue, parsed once.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(Catalogue::shipped)
}

impl Catalogue {
    /// The shipped catalogue with an institution's own wording laid over it: every `*.ftl` file
    /// in `dir/LANG/` (e.g. `wording/es/local.ftl`) replaces the shipped messages it names and
    /// may add `institution-crisis-resources`. Refused with the file and the error when a file
    /// does not parse or names a language the node does not speak, so a typo never ships.
    pub fn with_overrides(dir: &std::path::Path) -> Result<Self, crate::CoreError> {
        let mut catalogue = Self::shipped();
        let mut overrides: BTreeMap<Locale, Vec<String>> = BTreeMap::new();
        let bad = |m: String| crate::CoreError::bad_input("node.wording_dir", m);
        let entries = std::fs::read_dir(dir)
            .map_err(|e| bad(format!("cannot read {}: {e}", dir.display())))?;
        for entry in entries {
            let entry = entry.map_err(|e| bad(format!("{}: {e}", dir.display())))?;
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let locale = Locale::parse(&name)
                .filter(|l| l.tag() == name)
                .ok_or_else(|| {
                    bad(format!(
                        "{} is not a language this node speaks (use one of {})",
                        path.display(),
                        Locale::ALL.map(|l| l.tag()).join(", ")
                    ))
                })?;
            let mut files: Vec<_> = std::fs::read_dir(&path)
                .map_err(|e| bad(format!("{}: {e}", path.display())))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
                .collect();
            files.sort();
            for file in files {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| bad(format!("{}: {e}", file.display())))?;
                // Checked now, so a typo stops the node at start; parsed again with its language.
                FluentResource::try_new(text.clone()).map_err(|(_, errors)| {
                    bad(format!(
                        "{} does not parse: {}",
                        file.display(),
                        errors.first().map(|e| e.to_string()).unwrap_or_default()
                    ))
                })?;
                overrides.entry(locale).or_default().push(text);
            }
        }
        catalogue.overrides = overrides;
        Ok(catalogue)
    }

    fn shipped() -> Self {
        Self {
            bundles: Default::default(),
            overrides: BTreeMap::new(),
        }
    }

    /// `locale`'s messages, parsed on first use.
    fn bundle(&self, locale: Locale) -> &FluentBundle<FluentResource> {
        self.bundles[locale.index()].get_or_init(|| self.parse(locale))
    }

    /// Whether `locale` has been parsed yet.
    #[cfg(test)]
    fn is_parsed(&self, locale: Locale) -> bool {
        self.bundles[locale.index()].get().is_some()
    }

    fn parse(&self, locale: Locale) -> FluentBundle<FluentResource> {
        let id: LanguageIdentifier = locale.tag().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // Text goes into HTML and plain email; the bidi isolation marks Fluent adds around
        // arguments by default would show up as stray characters in some mail readers.
        bundle.set_use_isolating(false);
        for (l, name, text) in FILES {
            if *l != locale {
                continue;
            }
            let resource =
                FluentResource::try_new((*text).to_owned()).unwrap_or_else(|(partial, errors)| {
                    tracing::error!(
                        file = name,
                        errors = errors.len(),
                        "catalogue has syntax errors"
                    );
                    partial
                });
            if let Err(errors) = bundle.add_resource(resource) {
                tracing::error!(
                    file = name,
                    errors = errors.len(),
                    "catalogue repeats messages"
                );
            }
        }
        for text in self.overrides.get(&locale).into_iter().flatten() {
            // Each parsed when the node started (`with_overrides`).
            let resource = FluentResource::try_new(text.clone()).unwrap_or_else(|(p, _)| p);
            bundle.add_resource_overriding(resource);
        }
        bundle
    }

    /// A message without arguments.
    pub fn text(&self, locale: Locale, key: &str) -> String {
        self.format(locale, key, None)
    }

    /// A message with arguments, e.g. `[("minutes", 12.into())]`.
    pub fn text_with(&self, locale: Locale, key: &str, args: &[(&str, Arg)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(t) => fluent.set(*name, FluentValue::from(t.clone())),
                Arg::Number(n) => fluent.set(*name, FluentValue::from(*n)),
            }
        }
        self.format(locale, key, Some(&fluent))
    }

    /// Whether a language has a message (the completeness check uses it).
    pub fn has(&self, locale: Locale, key: &str) -> bool {
        self.bundle(locale)
            .get_message(key)
            .and_then(|m| m.value())
            .is_some()
    }

    fn format(&self, locale: Locale, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        let bundle = self.bundle(locale);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::warn!(
                key,
                locale = locale.tag(),
                "message missing from the catalogue"
            );
            return key.to_owned();
        };
        let mut errors = vec![];
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, locale = locale.tag(), "message formatted with errors");
        }
        text.into_owned()
    }
}

/// The keys and the argument names of each message in one catalogue file, for the check that
/// every language has every message with the same arguments.
pub fn messages_of(text: &str) -> BTreeMap<String, std::collections::BTreeSet<String>> {
    use fluent_syntax::ast;
    let mut out = BTreeMap::new();
    let Ok(resource) = fluent_syntax::parser::parse(text) else {
        return out;
    };
    for entry in resource.body {
        if let ast::Entry::Message(m) = entry {
            let mut vars = std::collections::BTreeSet::new();
            if let Some(p) = &m.value {
                variables(p, &mut vars);
            }
            out.insert(m.id.name.to_owned(), vars);
        }
    }
    out
}

fn variables(
    pattern: &fluent_syntax::ast::Pattern<&str>,
    out: &mut std::collections::BTreeSet<String>,
) {
    use fluent_syntax::ast::{Expression, InlineExpression, PatternElement};
    fn inline(e: &InlineExpression<&str>, out: &mut std::collections::BTreeSet<String>) {
        if let InlineExpression::VariableReference { id } = e {
            out.insert(id.name.to_owned());
        }
    }
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            match expression {
                Expression::Inline(e) => inline(e, out),
                Expression::Select { selector, variants } => {
                    inline(selector, out);
                    for v in variants {
                        variables(&v.value, out);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_shipped_language() {
        assert_eq!(
            Locale::negotiate("es-MX,es;q=0.9,en;q=0.8"),
            Some(Locale::Es)
        );
        assert_eq!(
            Locale::negotiate("fr-CA, en;q=0.5, es;q=0.4"),
            Some(Locale::En)
        );
        assert_eq!(Locale::negotiate("en;q=0.2, es;q=0.9"), Some(Locale::Es));
        assert_eq!(Locale::negotiate("es;q=0, en-GB"), Some(Locale::En));
        assert_eq!(Locale::negotiate("de, fr"), None);
        assert_eq!(Locale::negotiate(""), None);
    }

    #[test]
    fn a_missing_message_shows_its_key_and_arguments_are_placed() {
        let c = catalogue();
        assert_eq!(c.text(Locale::En, "no-such-message"), "no-such-message");
        let text = c.text_with(Locale::Es, "offer-time-left", &[("minutes", 3.into())]);
        assert!(text.contains('3'), "{text}");
        assert_ne!(text, "offer-time-left");
    }

    #[test]
    fn a_language_is_parsed_when_first_read() {
        let c = Catalogue::shipped();
        assert!(!c.is_parsed(Locale::En) && !c.is_parsed(Locale::Es));
        assert_ne!(c.text(Locale::Es, "card-licence"), "card-licence");
        assert!(c.is_parsed(Locale::Es) && !c.is_parsed(Locale::En));
        assert!(c.has(Locale::En, "card-licence"));
        assert!(c.is_parsed(Locale::En));
    }

    #[test]
    fn an_institutions_wording_is_checked_at_once_and_laid_over_its_language() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("es")).unwrap();
        std::fs::write(
            dir.path().join("es/local.ftl"),
            "card-licence = Nuestra licencia\n",
        )
        .unwrap();
        let c = Catalogue::with_overrides(dir.path()).unwrap();
        assert!(!c.is_parsed(Locale::Es));
        assert_eq!(c.text(Locale::Es, "card-licence"), "Nuestra licencia");
        assert_ne!(c.text(Locale::En, "card-licence"), "Nuestra licencia");
        std::fs::write(dir.path().join("es/local.ftl"), "card-licence = {\n").unwrap();
        let refused = Catalogue::with_overrides(dir.path())
            .unwrap_err()
            .to_string();
        assert!(refused.contains("does not parse"), "{refused}");
    }

    /// Every shipped language has the same messages with the same arguments, and every file
    /// parses without error.
    #[test]
    fn every_language_has_every_message_with_the_same_arguments() {
        let mut by_locale: BTreeMap<Locale, BTreeMap<String, std::collections::BTreeSet<String>>> =
            BTreeMap::new();
        for (locale, name, text) in FILES {
            assert!(
                fluent_syntax::parser::parse(*text).is_ok(),
                "{}/{name} has syntax errors",
                locale.tag()
            );
            by_locale
                .entry(*locale)
                .or_default()
                .extend(messages_of(text));
        }
        let english = &by_locale[&Locale::En];
        for (locale, messages) in &by_locale {
            for (key, vars) in english {
                let theirs = messages
                    .get(key)
                    .unwrap_or_else(|| panic!("{} lacks {key}", locale.tag()));
                assert_eq!(theirs, vars, "{}: {key} has other arguments", locale.tag());
            }
            for key in messages.keys() {
                assert!(
                    english.contains_key(key),
                    "{} has {key}, English does not",
                    locale.tag()
                );
            }
        }
    }
}
