//! The one query builder (Q1): `GET /listings` parameters, checked, then planned as engine-
//! neutral clauses over the fields of [`super::doc`]. Each engine translates the clauses one
//! by one (a term, a phrase of grams, a range...), so a query means the same on both.
use chrono::{DateTime, NaiveDate, Utc};

use super::doc::{self, fen, millis};
use super::name::{piece_grams, Charset, END, PINYIN, START};
use crate::domain_name::DomainName;
use crate::error::{Code, Problem};
use crate::money::Money;

/// Only the first matches can be paged to (OpenSearch's default result window); a total
/// beyond is reported as a lower bound.
pub const WINDOW: usize = 10_000;

/// The most items a page holds.
pub const MAX_LIMIT: usize = 200;

/// The most different characters `excludes` may name (each is a clause).
pub const MAX_EXCLUDED: usize = 64;

/// The raw parameters of `GET /listings`, as strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    pub q: Option<String>,
    pub tld: Option<String>,
    pub min_len: Option<String>,
    pub max_len: Option<String>,
    pub charset: Option<String>,
    pub syllables: Option<String>,
    pub starts_with: Option<String>,
    pub ends_with: Option<String>,
    pub contains: Option<String>,
    pub excludes: Option<String>,
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    pub expires_after: Option<String>,
    pub expires_before: Option<String>,
    pub source: Option<String>,
    pub seller: Option<String>,
    pub sort: Option<String>,
    pub facets: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

impl SearchParams {
    /// Sets the parameter `GET /listings` calls `name`; `false` for a name it does not take
    /// (the HTTP layer refuses unknown parameters itself).
    pub fn set(&mut self, name: &str, value: &str) -> bool {
        let slot = match name {
            "q" => &mut self.q,
            "tld" => &mut self.tld,
            "min_len" => &mut self.min_len,
            "max_len" => &mut self.max_len,
            "charset" => &mut self.charset,
            "syllables" => &mut self.syllables,
            "starts_with" => &mut self.starts_with,
            "ends_with" => &mut self.ends_with,
            "contains" => &mut self.contains,
            "excludes" => &mut self.excludes,
            "min_price" => &mut self.min_price,
            "max_price" => &mut self.max_price,
            "expires_after" => &mut self.expires_after,
            "expires_before" => &mut self.expires_before,
            "source" => &mut self.source,
            "seller" => &mut self.seller,
            "sort" => &mut self.sort,
            "facets" => &mut self.facets,
            "cursor" => &mut self.cursor,
            "limit" => {
                self.limit = value.parse().ok();
                return true;
            }
            _ => return false,
        };
        *slot = Some(value.to_owned());
        true
    }

    /// The parameters of a query string as written (`q=xiao&charset=pinyin`, no percent
    /// escapes: for tools and tests), or `None` with a name it does not take.
    pub fn from_query(query: &str) -> Option<SearchParams> {
        let mut params = SearchParams::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !params.set(name, value) {
                return None;
            }
        }
        Some(params)
    }
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Exact name first, then by how the name starts, then shorter, then newer.
    Relevance,
    Newest,
    PriceAscending,
    PriceDescending,
    Length,
    EndingSoon,
    Expiry,
}

impl Sort {
    pub const WORDS: [&'static str; 7] = [
        "relevance",
        "newest",
        "price",
        "-price",
        "length",
        "ending_soon",
        "expiry",
    ];

    fn parse(word: &str) -> Option<Sort> {
        Some(match word {
            "relevance" => Sort::Relevance,
            "newest" => Sort::Newest,
            "price" => Sort::PriceAscending,
            "-price" => Sort::PriceDescending,
            "length" => Sort::Length,
            "ending_soon" => Sort::EndingSoon,
            "expiry" => Sort::Expiry,
            _ => return None,
        })
    }
}

/// What facets count (`facets=tld,length,charset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Facet {
    Tld,
    Length,
    Charset,
}

impl Facet {
    pub const WORDS: [&'static str; 3] = ["tld", "length", "charset"];

    pub fn as_str(self) -> &'static str {
        match self {
            Facet::Tld => "tld",
            Facet::Length => "length",
            Facet::Charset => "charset",
        }
    }

    /// The field it counts.
    pub fn field(self) -> &'static str {
        match self {
            Facet::Tld => doc::TLD,
            Facet::Length => doc::LENGTH,
            Facet::Charset => doc::CLASSES,
        }
    }
}

/// A checked search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Lower-case words, each to be found in the name.
    pub words: Vec<String>,
    /// The whole domain when `q` is one (`xiaomi.com`): it ranks first.
    pub exact_domain: Option<String>,
    pub tlds: Vec<String>,
    pub min_len: Option<u32>,
    pub max_len: Option<u32>,
    /// A charset word (`digits` ... `idn`) or `pinyin`.
    pub charset: Option<&'static str>,
    pub syllables: Option<u8>,
    pub starts_with: Option<String>,
    pub ends_with: Option<String>,
    pub contains: Option<String>,
    pub excludes: Vec<char>,
    pub min_price: Option<Money>,
    pub max_price: Option<Money>,
    pub expires_after: Option<DateTime<Utc>>,
    pub expires_before: Option<DateTime<Utc>>,
    pub source: Option<&'static str>,
    pub seller: Option<String>,
    pub sort: Sort,
    pub facets: Vec<Facet>,
    pub offset: usize,
    pub limit: usize,
}

fn invalid(detail: impl Into<String>) -> Problem {
    Problem::new(Code::InvalidQuery, detail)
}

/// A parameter that was given and is not blank.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(name: &str, value: &Option<String>) -> Result<Option<T>, Problem> {
    given(value)
        .map(|v| {
            v.parse()
                .map_err(|_| invalid(format!("{name} must be a whole number, not `{v}`")))
        })
        .transpose()
}

/// A time as RFC 3339 or a date (`2027-01-31`, midnight UTC).
fn time(name: &str, value: &Option<String>) -> Result<Option<DateTime<Utc>>, Problem> {
    given(value)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .or_else(|_| {
                    NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
                })
                .map_err(|_| {
                    invalid(format!(
                        "{name} must be a date or an RFC 3339 time, not `{v}`"
                    ))
                })
        })
        .transpose()
}

/// A piece of a name (lower-case; an IDN piece in Unicode).
fn piece(name: &str, value: &Option<String>) -> Result<Option<String>, Problem> {
    let Some(v) = given(value) else {
        return Ok(None);
    };
    let v = v.to_lowercase();
    if v.chars().count() > 63 || v.contains(['.', ' ', START, END]) {
        return Err(invalid(format!("{name} `{v}` is not part of a name")));
    }
    Ok(Some(v))
}

/// A TLD in normal form (`.COM` → `com`, `中国` → `xn--fiqs8s`).
fn tld(word: &str) -> Result<String, Problem> {
    let word = word.trim().trim_start_matches('.');
    DomainName::parse(&format!("x.{word}"))
        .ok()
        .filter(|_| !word.is_empty() && !word.contains('.'))
        .map(|d| d.tld().to_owned())
        .ok_or_else(|| invalid(format!("`{word}` is not a TLD")))
}

impl SearchQuery {
    /// Checks the parameters; a malformed or contradictory query is `INVALID_QUERY` (a bad
    /// amount `INVALID_AMOUNT`, as everywhere).
    pub fn parse(p: &SearchParams) -> Result<SearchQuery, Problem> {
        let q = given(&p.q).map(str::to_lowercase);
        if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(invalid("q is at most 100 characters"));
        }
        let exact_domain = q
            .as_deref()
            .filter(|q| q.contains('.') && !q.contains(char::is_whitespace))
            .and_then(|q| DomainName::parse(q).ok());
        let words: Vec<String> = match &exact_domain {
            // A whole domain is looked for by its name (the first label) in both forms.
            Some(domain) => vec![domain
                .unicode()
                .split('.')
                .next()
                .unwrap_or_default()
                .to_owned()],
            // The grams' anchors are not characters of a name.
            None => q
                .as_deref()
                .unwrap_or_default()
                .split(|c: char| c.is_whitespace() || c == '.' || c == START || c == END)
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let tlds = match given(&p.tld) {
            Some(list) => list
                .split(',')
                .filter(|t| !t.trim().is_empty())
                .map(tld)
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let min_len: Option<u32> = number("min_len", &p.min_len)?;
        let max_len: Option<u32> = number("max_len", &p.max_len)?;
        if let (Some(min), Some(max)) = (min_len, max_len) {
            if min > max {
                return Err(invalid(format!("min_len {min} is above max_len {max}")));
            }
        }
        let charset = given(&p.charset)
            .map(|c| {
                Charset::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .chain([PINYIN])
                    .find(|w| *w == c)
                    .ok_or_else(|| {
                        invalid(format!(
                            "charset is one of digits, letters, alnum, hyphen, idn, pinyin, not `{c}`"
                        ))
                    })
            })
            .transpose()?;
        let syllables: Option<u8> = number("syllables", &p.syllables)?;
        if let Some(n) = syllables {
            if charset != Some(PINYIN) {
                return Err(invalid("syllables needs charset=pinyin"));
            }
            if !(1..=3).contains(&n) {
                return Err(invalid(format!("syllables is 1, 2 or 3, not {n}")));
            }
        }
        // An amount given blank is not an amount (the contract's pattern), unlike a blank
        // word or list, which is no filter.
        let money = |v: &Option<String>| v.as_deref().map(Money::parse).transpose();
        let (min_price, max_price) = (money(&p.min_price)?, money(&p.max_price)?);
        if let (Some(min), Some(max)) = (min_price, max_price) {
            if min > max {
                return Err(invalid(format!("min_price {min} is above max_price {max}")));
            }
        }
        let expires_after = time("expires_after", &p.expires_after)?;
        let expires_before = time("expires_before", &p.expires_before)?;
        if let (Some(after), Some(before)) = (expires_after, expires_before) {
            if after >= before {
                return Err(invalid("expires_after is not before expires_before"));
            }
        }
        let source = given(&p.source)
            .map(|s| match s {
                "registrar" => Ok("registrar"),
                "partner" => Ok("partner"),
                other => Err(invalid(format!(
                    "source is registrar or partner, not `{other}`"
                ))),
            })
            .transpose()?;
        let sort = match given(&p.sort) {
            Some(word) => Sort::parse(word).ok_or_else(|| {
                invalid(format!(
                    "sort is one of {}, not `{word}`",
                    Sort::WORDS.join(", ")
                ))
            })?,
            None if !words.is_empty() => Sort::Relevance,
            None => Sort::Newest,
        };
        let mut facets = Vec::new();
        for word in given(&p.facets)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            let facet = match word {
                "tld" => Facet::Tld,
                "length" => Facet::Length,
                "charset" => Facet::Charset,
                other => {
                    return Err(invalid(format!(
                        "facets are tld, length and charset, not `{other}`"
                    )))
                }
            };
            if !facets.contains(&facet) {
                facets.push(facet);
            }
        }
        let limit = match p.limit {
            None => 50,
            Some(n @ 1..=MAX_LIMIT) => n,
            Some(n) => {
                return Err(Problem::new(
                    Code::InvalidRequest,
                    format!("limit is from 1 to 200, not {n}"),
                ))
            }
        };
        let offset = match given(&p.cursor) {
            None => 0,
            Some(cursor) => decode_cursor(cursor)?,
        };
        if offset.saturating_add(limit) > WINDOW {
            return Err(invalid(format!(
                "only the first {WINDOW} matches can be paged to: narrow the query"
            )));
        }
        let mut excludes: Vec<char> = given(&p.excludes)
            .unwrap_or_default()
            .to_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ',')
            .collect();
        excludes.sort_unstable();
        excludes.dedup();
        if excludes.len() > MAX_EXCLUDED {
            return Err(invalid(format!(
                "excludes names at most {MAX_EXCLUDED} different characters"
            )));
        }
        Ok(SearchQuery {
            words,
            exact_domain: exact_domain.map(|d| d.ascii().to_owned()),
            tlds,
            min_len,
            max_len,
            charset,
            syllables,
            starts_with: piece("starts_with", &p.starts_with)?,
            ends_with: piece("ends_with", &p.ends_with)?,
            contains: piece("contains", &p.contains)?,
            excludes,
            min_price,
            max_price,
            expires_after,
            expires_before,
            source,
            seller: given(&p.seller).map(str::to_owned),
            sort,
            facets,
            offset,
            limit,
        })
    }

    /// The cursor of the page after this one, when `total` matches go on past it.
    pub fn next_cursor(&self, total: u64) -> Option<String> {
        let next = self.offset + self.limit;
        (next < WINDOW && (next as u64) < total).then(|| encode_cursor(next))
    }

    /// The query as clauses, judged at `now` (E1: a listing past its end or its domain's
    /// expiry is not found, whether or not the sweep has ended it yet).
    pub fn plan(&self, now: DateTime<Utc>) -> Plan {
        let mut filter = vec![Clause::range(
            doc::VISIBLE_UNTIL,
            Some(millis(now) + 1),
            None,
        )];
        let mut boosts = Vec::new();
        for word in &self.words {
            filter.push(word_match(word));
        }
        if let Some(domain) = &self.exact_domain {
            boosts.push((Clause::term(doc::DOMAIN, domain), 1000));
        }
        if let [word] = self.words.as_slice() {
            boosts.push((Clause::term(doc::NAME, word), 100));
            if let Some(grams) = gram_clause(word, true, false) {
                boosts.push((grams, 10));
            }
            boosts.push((Clause::term(doc::TOKENS, word), 1));
        }
        if !self.tlds.is_empty() {
            filter.push(Clause::AnyTerm {
                field: doc::TLD,
                values: self.tlds.clone(),
            });
        }
        if self.min_len.is_some() || self.max_len.is_some() {
            filter.push(Clause::range(
                doc::LENGTH,
                self.min_len.map(i64::from),
                self.max_len.map(i64::from),
            ));
        }
        if let Some(charset) = self.charset {
            filter.push(Clause::term(doc::CLASSES, charset));
        }
        if let Some(n) = self.syllables {
            let n = i64::from(n);
            filter.push(Clause::range(doc::SYLLABLES, Some(n), Some(n)));
        }
        if let Some(piece) = &self.starts_with {
            filter.extend(gram_clause(piece, true, false));
        }
        if let Some(piece) = &self.ends_with {
            filter.extend(gram_clause(piece, false, true));
        }
        if let Some(piece) = &self.contains {
            filter.push(
                gram_clause(piece, false, false).unwrap_or_else(|| Clause::term(doc::CHARS, piece)),
            );
        }
        for c in &self.excludes {
            filter.push(Clause::Not(Box::new(Clause::term(
                doc::CHARS,
                &c.to_string(),
            ))));
        }
        if self.min_price.is_some() || self.max_price.is_some() {
            filter.push(Clause::range(
                doc::PRICE,
                self.min_price.map(fen),
                self.max_price.map(fen),
            ));
        }
        if self.expires_after.is_some() || self.expires_before.is_some() {
            filter.push(Clause::range(
                doc::DOMAIN_EXPIRES_AT,
                self.expires_after.map(|t| millis(t) + 1),
                self.expires_before.map(|t| millis(t) - 1),
            ));
        }
        if let Some(source) = self.source {
            filter.push(Clause::term(doc::SOURCE, source));
        }
        if let Some(seller) = &self.seller {
            filter.push(Clause::term(doc::SELLER, seller));
        }
        use Order::{Ascending as Up, Descending as Down};
        let mut sort = match self.sort {
            Sort::Relevance => vec![
                (SortKey::Score, Down),
                (SortKey::Field(doc::LENGTH), Up),
                (SortKey::Field(doc::CREATED_AT), Down),
            ],
            Sort::Newest => vec![(SortKey::Field(doc::CREATED_AT), Down)],
            Sort::PriceAscending => vec![
                (SortKey::Field(doc::PRICE), Up),
                (SortKey::Field(doc::CREATED_AT), Down),
            ],
            Sort::PriceDescending => vec![
                (SortKey::Field(doc::PRICE), Down),
                (SortKey::Field(doc::CREATED_AT), Down),
            ],
            Sort::Length => vec![
                (SortKey::Field(doc::LENGTH), Up),
                (SortKey::Field(doc::CREATED_AT), Down),
            ],
            Sort::EndingSoon => vec![
                (SortKey::Field(doc::ENDS_AT), Up),
                (SortKey::Field(doc::CREATED_AT), Down),
            ],
            Sort::Expiry => vec![
                (SortKey::Field(doc::DOMAIN_EXPIRES_AT), Up),
                (SortKey::Field(doc::CREATED_AT), Down),
            ],
        };
        // One order for listings equal in every key (paging by offset needs it).
        sort.push((SortKey::Field(doc::TIEBREAK), Up));
        Plan {
            filter,
            boosts,
            sort,
            facets: self.facets.clone(),
            offset: self.offset,
            limit: self.limit,
        }
    }
}

/// A keyword is found in the name by substring (two characters or more, in Unicode or
/// punycode) or, one character long, as a whole token of it.
fn word_match(word: &str) -> Clause {
    let grams = piece_grams(word, false, false);
    if grams.is_empty() {
        return Clause::term(doc::TOKENS, word);
    }
    Clause::Any(vec![
        Clause::phrase(doc::GRAMS, grams.clone()),
        Clause::phrase(doc::GRAMS_PUNYCODE, grams),
    ])
}

fn gram_clause(piece: &str, at_start: bool, at_end: bool) -> Option<Clause> {
    let grams = piece_grams(piece, at_start, at_end);
    (!grams.is_empty()).then(|| Clause::phrase(doc::GRAMS, grams))
}

fn encode_cursor(offset: usize) -> String {
    format!("o{offset}")
}

fn decode_cursor(cursor: &str) -> Result<usize, Problem> {
    cursor
        .strip_prefix('o')
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n < WINDOW)
        .ok_or_else(|| {
            Problem::new(
                Code::InvalidRequest,
                "the cursor is not one this list gave out",
            )
        })
}

/// One condition on the fields of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// The keyword field holds the word.
    Term { field: &'static str, value: String },
    /// The keyword field holds one of the words.
    AnyTerm {
        field: &'static str,
        values: Vec<String>,
    },
    /// The number field is within the bounds (both inclusive).
    Range {
        field: &'static str,
        min: Option<i64>,
        max: Option<i64>,
    },
    /// The grams field holds these grams at consecutive positions (one gram: anywhere).
    Phrase {
        field: &'static str,
        grams: Vec<String>,
    },
    /// One of the clauses holds.
    Any(Vec<Clause>),
    /// The clause does not hold.
    Not(Box<Clause>),
}

impl Clause {
    pub fn term(field: &'static str, value: &str) -> Clause {
        Clause::Term {
            field,
            value: value.to_owned(),
        }
    }
    pub fn range(field: &'static str, min: Option<i64>, max: Option<i64>) -> Clause {
        Clause::Range { field, min, max }
    }
    pub fn phrase(field: &'static str, grams: Vec<String>) -> Clause {
        Clause::Phrase { field, grams }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// The sum of the boosts of the clauses a document meets.
    Score,
    Field(&'static str),
}

/// A query as an engine runs it: every `filter` holds; the score is the sum of the `boosts`
/// whose clause holds; ordered by `sort`; `facets` counted over every match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub filter: Vec<Clause>,
    pub boosts: Vec<(Clause, u32)>,
    pub sort: Vec<(SortKey, Order)>,
    pub facets: Vec<Facet>,
    pub offset: usize,
    pub limit: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<SearchQuery, Problem> {
        let mut p = SearchParams::default();
        for (name, value) in pairs {
            assert!(p.set(name, value), "{name}");
        }
        SearchQuery::parse(&p)
    }

    fn refused(pairs: &[(&str, &str)]) -> Code {
        parse(pairs).unwrap_err().code
    }

    #[test]
    fn q1_contradictions_are_invalid_queries() {
        for bad in [
            &[("min_len", "5"), ("max_len", "3")][..],
            &[("min_price", "10"), ("max_price", "5")],
            &[("syllables", "2")],
            &[("charset", "pinyin"), ("syllables", "4")],
            &[("charset", "emoji")],
            &[("sort", "cheapest")],
            &[("facets", "tld,colour")],
            &[("min_len", "three")],
            &[("tld", "c om")],
            &[
                ("expires_after", "2027-02-01"),
                ("expires_before", "2027-01-01"),
            ],
            &[("expires_after", "tomorrow")],
            &[("source", "auction")],
            &[("cursor", "o9990")],
            &[("contains", "a.b")],
        ] {
            assert_eq!(refused(bad), Code::InvalidQuery, "{bad:?}");
        }
        assert_eq!(refused(&[("min_price", "1.234")]), Code::InvalidAmount);
        assert_eq!(refused(&[("max_price", "")]), Code::InvalidAmount);
        assert_eq!(refused(&[("cursor", "page2")]), Code::InvalidRequest);
        assert_eq!(
            refused(&[("cursor", "o18446744073709551615")]),
            Code::InvalidRequest,
            "no overflow"
        );
        let many: String = ('a'..='z')
            .chain('0'..='9')
            .chain('一'..='龥')
            .take(65)
            .collect();
        assert_eq!(refused(&[("excludes", many.as_str())]), Code::InvalidQuery);
        let twice = parse(&[("excludes", "4,4 44")]).unwrap();
        assert_eq!(twice.excludes, vec!['4'], "one clause a character");
    }

    #[test]
    fn q1_defaults_and_normal_forms() {
        let q = parse(&[("tld", ".COM, 中国"), ("q", "XiaoMi")]).unwrap();
        assert_eq!(q.tlds, vec!["com", "xn--fiqs8s"]);
        assert_eq!(q.words, vec!["xiaomi"]);
        assert_eq!(q.sort, Sort::Relevance, "relevance by default with q");
        assert_eq!(parse(&[]).unwrap().sort, Sort::Newest);
        let whole = parse(&[("q", "xiaomi.com")]).unwrap();
        assert_eq!(whole.exact_domain.as_deref(), Some("xiaomi.com"));
        assert_eq!(whole.words, vec!["xiaomi"]);
        let facets = parse(&[("facets", "charset,tld,charset")]).unwrap().facets;
        assert_eq!(facets, vec![Facet::Charset, Facet::Tld]);
    }

    #[test]
    fn q1_parameters_by_name() {
        let p = SearchParams::from_query("q=xiao&limit=7&charset=pinyin").unwrap();
        assert_eq!(p.q.as_deref(), Some("xiao"));
        assert_eq!(p.limit, Some(7));
        assert_eq!(p.charset.as_deref(), Some("pinyin"));
        assert!(SearchParams::from_query("colour=red").is_none());
    }

    #[test]
    fn q1_paging_stops_at_the_window() {
        let q = parse(&[("cursor", "o9950")]).unwrap();
        assert_eq!(q.offset, 9950);
        assert_eq!(q.next_cursor(20_000), None, "9950 + 50 is the window's end");
        let first = parse(&[]).unwrap();
        assert_eq!(first.next_cursor(51).as_deref(), Some("o50"));
        assert_eq!(first.next_cursor(50), None);
    }

    #[test]
    fn q1_a_plan_filters_e1_and_boosts_the_exact_name() {
        let now = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let plan = parse(&[("q", "xiaomi.com"), ("excludes", "4")])
            .unwrap()
            .plan(now);
        assert!(plan.filter.contains(&Clause::range(
            doc::VISIBLE_UNTIL,
            Some(millis(now) + 1),
            None
        )));
        assert!(plan
            .filter
            .contains(&Clause::Not(Box::new(Clause::term(doc::CHARS, "4")))));
        assert_eq!(
            plan.boosts[0],
            (Clause::term(doc::DOMAIN, "xiaomi.com"), 1000)
        );
        assert_eq!(plan.sort[0], (SortKey::Score, Order::Descending));
    }
}
