//! Domain names in one normal form (A4): lower-case ASCII, internationalised labels in
//! punycode, through the maintained `idna` crate (UTS #46).
use serde::{Deserialize, Serialize};
use std::fmt;

use super::error::{Code, Problem};

/// A syntactically valid, normalised domain name with at least two labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainName(String);

impl DomainName {
    /// Parses a name given in Unicode or punycode: `例子.中国` and `xn--fsqu00a.xn--fiqs8s`
    /// give the same value (A4). A trailing dot is accepted and dropped.
    pub fn parse(input: &str) -> Result<DomainName, Problem> {
        let invalid = |why: &str| {
            Problem::new(
                Code::InvalidDomain,
                format!("`{input}` is not a domain name: {why}"),
            )
        };
        let trimmed = input.trim().trim_end_matches('.');
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        let ascii = idna::domain_to_ascii_strict(trimmed)
            .map_err(|_| invalid("it is not a valid IDNA name"))?;
        let labels: Vec<&str> = ascii.split('.').collect();
        if labels.len() < 2 {
            return Err(invalid("it needs a name and a top-level domain"));
        }
        if labels.iter().any(|l| l.is_empty() || l.len() > 63) || ascii.len() > 253 {
            return Err(invalid("a label is empty or too long"));
        }
        Ok(DomainName(ascii))
    }

    /// The normal form: lower-case ASCII with punycode labels.
    pub fn ascii(&self) -> &str {
        &self.0
    }

    /// The name for people: internationalised labels decoded.
    pub fn unicode(&self) -> String {
        idna::domain_to_unicode(&self.0).0
    }

    /// The top-level domain in normal form, without the dot (`com`, `xn--fiqs8s`).
    pub fn tld(&self) -> &str {
        self.0.rsplit('.').next().unwrap_or(&self.0)
    }

    /// Whether the name ends with the given suffix of whole labels (`gov.cn`).
    pub fn has_suffix(&self, suffix: &str) -> bool {
        self.0 == suffix || self.0.ends_with(&format!(".{suffix}"))
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DomainName {
    type Error = Problem;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        DomainName::parse(&value)
    }
}

impl From<DomainName> for String {
    fn from(value: DomainName) -> String {
        value.0
    }
}

impl std::str::FromStr for DomainName {
    type Err = Problem;

    fn from_str(text: &str) -> Result<Self, Problem> {
        DomainName::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a4_unicode_and_punycode_are_one_name() {
        let unicode = DomainName::parse("例子.中国").unwrap();
        let puny = DomainName::parse("XN--fsqu00a.xn--FIQS8S").unwrap();
        assert_eq!(unicode, puny);
        assert_eq!(unicode.ascii(), "xn--fsqu00a.xn--fiqs8s");
        assert_eq!(unicode.unicode(), "例子.中国");
        assert_eq!(unicode.tld(), "xn--fiqs8s");
    }

    #[test]
    fn a4_lower_cases_ascii_names() {
        assert_eq!(
            DomainName::parse("Example.COM.").unwrap().ascii(),
            "example.com"
        );
    }

    #[test]
    fn refuses_names_that_are_not_domains() {
        for bad in [
            "",
            "com",
            "exa mple.com",
            "-a-.com",
            "a..com",
            "a_b.com",
            &"a".repeat(64),
        ] {
            let err = DomainName::parse(bad).unwrap_err();
            assert_eq!(err.code, Code::InvalidDomain, "{bad}");
        }
    }
}
