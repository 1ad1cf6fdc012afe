//! The UI's languages: English, German and Japanese strings in Project Fluent files
//! (`i18n/{en,de,ja}.ftl`, embedded at compile time), and the choice of a user's language.
//!
//! A key missing in one language is not papered over with another language's text: it renders
//! as `⟦key⟧`, so a test that scans every page in every language catches it.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

/// A language of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// English (the default).
    #[default]
    En,
    /// German.
    De,
    /// Japanese.
    Ja,
}

impl Locale {
    /// Every UI language, in the order the language switch shows them.
    pub const ALL: [Locale; 3] = [Locale::En, Locale::De, Locale::Ja];

    /// The BCP 47 tag (`en`, `de`, `ja`), also the value of the `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
            Locale::Ja => "ja",
        }
    }

    /// The language's own name, as the language switch shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::De => "Deutsch",
            Locale::Ja => "日本語",
        }
    }

    /// Parses a tag such as `de`, `de-DE` or `ja_JP` (case-insensitive); `None` if unsupported.
    pub fn from_code(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Locale::En),
            "de" => Some(Locale::De),
            "ja" => Some(Locale::Ja),
            _ => None,
        }
    }

    /// Chooses from an HTTP `Accept-Language` header by quality; English when nothing matches.
    pub fn negotiate(accept_language: &str) -> Locale {
        let mut best: Option<(f32, Locale)> = None;
        for part in accept_language.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if let Some(loc) = Locale::from_code(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, loc));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    fn source(self) -> &'static str {
        match self {
            Locale::En => include_str!("../i18n/en.ftl"),
            Locale::De => include_str!("../i18n/de.ftl"),
            Locale::Ja => include_str!("../i18n/ja.ftl"),
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A problem in a Fluent resource file.
#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    /// The file does not parse.
    #[error("i18n/{locale}.ftl line {line}: {message}")]
    Parse {
        /// The language whose file is broken.
        locale: Locale,
        /// 1-based line of the first error.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A message is defined twice.
    #[error("i18n/{locale}.ftl: {message}")]
    Duplicate {
        /// The language whose file is broken.
        locale: Locale,
        /// Which message.
        message: String,
    },
}

/// The strings of all UI languages.
pub struct Catalog {
    bundles: Vec<(Locale, FluentBundle<FluentResource>, BTreeSet<String>)>,
}

impl Catalog {
    /// Parses the embedded resource files.
    pub fn load() -> Result<Catalog, I18nError> {
        let mut bundles = Vec::new();
        for locale in Locale::ALL {
            let src = locale.source();
            let resource = FluentResource::try_new(src.to_owned()).map_err(|(_, errs)| {
                let first = errs.first();
                let offset = first.map(|e| e.pos.start).unwrap_or(0);
                I18nError::Parse {
                    locale,
                    line: src[..offset.min(src.len())].matches('\n').count() + 1,
                    message: first.map(|e| e.kind.to_string()).unwrap_or_default(),
                }
            })?;
            let keys: BTreeSet<String> = resource
                .entries()
                .filter_map(|e| match e {
                    fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                    _ => None,
                })
                .collect();
            let langid: unic_langid::LanguageIdentifier =
                locale.code().parse().expect("static language tags parse");
            let mut bundle = FluentBundle::new_concurrent(vec![langid]);
            // The HTML is ours: Unicode isolation marks around arguments would only add noise.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|errs| I18nError::Duplicate {
                    locale,
                    message: errs
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                })?;
            bundles.push((locale, bundle, keys));
        }
        Ok(Catalog { bundles })
    }

    /// The process-wide catalog (the files are embedded, so a broken one fails every test).
    pub fn global() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG
            .get_or_init(|| Catalog::load().unwrap_or_else(|e| panic!("embedded UI strings: {e}")))
    }

    fn entry(&self, locale: Locale) -> &(Locale, FluentBundle<FluentResource>, BTreeSet<String>) {
        self.bundles
            .iter()
            .find(|(l, _, _)| *l == locale)
            .expect("every locale is loaded")
    }

    /// The message ids defined for a language.
    pub fn keys(&self, locale: Locale) -> &BTreeSet<String> {
        &self.entry(locale).2
    }

    /// The text of `key` in `locale` with named arguments; `⟦key⟧` if the language lacks it.
    pub fn text(&self, locale: Locale, key: &str, args: &[(&str, Arg)]) -> String {
        let (_, bundle, _) = self.entry(locale);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return format!("⟦{key}⟧");
        };
        let mut fargs = FluentArgs::new();
        for (name, value) in args {
            let v: FluentValue<'_> = match value {
                Arg::Str(s) => FluentValue::from(s.clone()),
                Arg::Num(n) => FluentValue::from(*n),
            };
            fargs.set(*name, v);
        }
        let mut errors = Vec::new();
        let out = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
        if errors.is_empty() {
            out.into_owned()
        } else {
            format!("⟦{key}⟧")
        }
    }
}

/// An argument of a translated message.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Text, inserted as is (already formatted for the locale where it is a number or date).
    Str(String),
    /// A number, for Fluent's plural selection (`{ $n -> [one] ... *[other] ... }`).
    Num(f64),
}

/// Marker prefix of an untranslated key in rendered output.
pub const MISSING_MARK: char = '⟦';
