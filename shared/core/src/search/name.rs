//! What investors filter a name by (Q1): its length, its character class, its pinyin
//! syllables, and the pieces substring, prefix and suffix matching is done with.
//!
//! "The name" is the domain's first label, the part its owner chose (`abc` of `abc.com` and
//! of `abc.com.cn`); an IDN's is counted in Unicode characters (`例子.中国` → 2).
use serde::{Deserialize, Serialize};

use super::pinyin;
use crate::domain_name::DomainName;

/// A name's character class (纯数字, 纯字母, 杂米, with a hyphen, internationalised).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Charset {
    Digits,
    Letters,
    Alnum,
    Hyphen,
    Idn,
}

impl Charset {
    pub const ALL: [Charset; 5] = [
        Charset::Digits,
        Charset::Letters,
        Charset::Alnum,
        Charset::Hyphen,
        Charset::Idn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Charset::Digits => "digits",
            Charset::Letters => "letters",
            Charset::Alnum => "alnum",
            Charset::Hyphen => "hyphen",
            Charset::Idn => "idn",
        }
    }
}

/// The class word of names that split into pinyin syllables (also letters).
pub const PINYIN: &str = "pinyin";

/// The marks that anchor a name's first and last characters among its grams.
pub const START: char = '^';
pub const END: char = '$';

/// A name as search sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTraits {
    /// The first label as stored (lower-case ASCII, punycode for an IDN).
    pub ascii: String,
    /// The first label for people (decoded for an IDN, else the same as `ascii`).
    pub unicode: String,
    /// Characters of `unicode`.
    pub length: u32,
    pub charset: Charset,
    /// The fewest pinyin syllables it splits into (letters only).
    pub syllables: Option<u8>,
}

impl NameTraits {
    pub fn of(domain: &DomainName) -> NameTraits {
        let ascii = first_label(domain.ascii()).to_owned();
        let unicode = first_label(&domain.unicode()).to_owned();
        let charset = if unicode != ascii || ascii.starts_with("xn--") {
            Charset::Idn
        } else if ascii.contains('-') {
            Charset::Hyphen
        } else if ascii.bytes().all(|b| b.is_ascii_digit()) {
            Charset::Digits
        } else if ascii.bytes().all(|b| b.is_ascii_lowercase()) {
            Charset::Letters
        } else {
            Charset::Alnum
        };
        let syllables = match charset {
            Charset::Letters => pinyin::syllable_count(&ascii),
            _ => None,
        };
        NameTraits {
            length: unicode.chars().count() as u32,
            ascii,
            unicode,
            charset,
            syllables,
        }
    }

    /// The class words it is found by: its charset, and `pinyin` when it splits.
    pub fn classes(&self) -> Vec<&'static str> {
        let mut classes = vec![self.charset.as_str()];
        if self.syllables.is_some() {
            classes.push(PINYIN);
        }
        classes
    }

    /// The parts of the name a one-character keyword matches whole (`best-shop` → `best`,
    /// `shop`, and the whole name).
    pub fn tokens(&self) -> Vec<String> {
        let mut tokens: Vec<String> = vec![self.ascii.clone()];
        for name in [&self.ascii, &self.unicode] {
            for token in name.split('-').filter(|t| !t.is_empty()) {
                if !tokens.iter().any(|t| t == token) {
                    tokens.push(token.to_owned());
                }
            }
        }
        tokens
    }

    /// The distinct characters of the name (both forms), for `excludes`.
    pub fn chars(&self) -> Vec<String> {
        let mut chars: Vec<char> = self.ascii.chars().chain(self.unicode.chars()).collect();
        chars.sort_unstable();
        chars.dedup();
        chars.into_iter().map(String::from).collect()
    }
}

fn first_label(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// The overlapping pairs of characters of `text` bracketed by the anchors: `abc` →
/// `^a ab bc c$`. A substring of two or more characters is a run of consecutive grams, a
/// prefix starts with `^`, a suffix ends with `$`: one indexed field answers all three as
/// a phrase, on any engine that keeps positions.
pub fn grams(text: &str) -> Vec<String> {
    let marked: Vec<char> = std::iter::once(START)
        .chain(text.chars())
        .chain(std::iter::once(END))
        .collect();
    marked.windows(2).map(|w| w.iter().collect()).collect()
}

/// The grams a piece of a name must show, in order: inside it (`contains`), at its start
/// (`starts_with`) or at its end (`ends_with`). Empty when the piece is too short to say
/// anything as grams (one character inside a name).
pub fn piece_grams(piece: &str, at_start: bool, at_end: bool) -> Vec<String> {
    let mut marked: Vec<char> = Vec::new();
    if at_start {
        marked.push(START);
    }
    marked.extend(piece.chars());
    if at_end {
        marked.push(END);
    }
    marked.windows(2).map(|w| w.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traits(name: &str) -> NameTraits {
        NameTraits::of(&DomainName::parse(name).unwrap())
    }

    #[test]
    fn q1_the_class_of_a_name() {
        assert_eq!(traits("8888.com").charset, Charset::Digits);
        assert_eq!(traits("abc.com").charset, Charset::Letters);
        assert_eq!(traits("a1b2.net").charset, Charset::Alnum);
        assert_eq!(traits("best-shop.cn").charset, Charset::Hyphen);
        assert_eq!(traits("例子.中国").charset, Charset::Idn);
        assert_eq!(traits("xn--fsqu00a.com").charset, Charset::Idn);
    }

    #[test]
    fn q1_length_is_the_first_label_in_characters() {
        assert_eq!(traits("abc.com").length, 3);
        assert_eq!(traits("abc.com.cn").length, 3);
        assert_eq!(traits("例子.中国").length, 2);
        assert_eq!(traits("例子.中国").ascii, "xn--fsqu00a");
        assert_eq!(traits("例子.中国").unicode, "例子");
    }

    #[test]
    fn q1_pinyin_names_are_letters_and_pinyin() {
        let xiaomi = traits("xiaomi.com");
        assert_eq!(xiaomi.syllables, Some(2));
        assert_eq!(xiaomi.classes(), vec!["letters", "pinyin"]);
        assert_eq!(traits("aaa.com").classes(), vec!["letters"]);
        assert_eq!(traits("666.com").syllables, None);
    }

    #[test]
    fn q1_grams_anchor_the_ends() {
        assert_eq!(grams("abc"), vec!["^a", "ab", "bc", "c$"]);
        assert_eq!(grams("例子"), vec!["^例", "例子", "子$"]);
        assert_eq!(piece_grams("ab", true, false), vec!["^a", "ab"]);
        assert_eq!(piece_grams("bc", false, true), vec!["bc", "c$"]);
        assert_eq!(piece_grams("b", false, false), Vec::<String>::new());
        assert_eq!(piece_grams("a", true, false), vec!["^a"]);
    }

    #[test]
    fn q1_tokens_and_chars() {
        assert_eq!(
            traits("best-shop.com").tokens(),
            vec!["best-shop", "best", "shop"]
        );
        assert_eq!(traits("a4a.com").chars(), vec!["4", "a"]);
    }
}
