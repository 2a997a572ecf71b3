//! Alipay's RSA2: SHA256withRSA, PKCS#1 v1.5, base64 signatures, through `aws-lc-rs` (the
//! crypto library rustls and the AWS SDK already link). The strings to sign follow Alipay's
//! rules (and python-alipay-sdk's): parameters sorted by key, `k=v` joined by `&`, values as
//! received (decoded, unescaped).
//!
//! Keys are read as PEM (PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`, SPKI `PUBLIC KEY`,
//! PKCS#1 `RSA PUBLIC KEY`) or as bare base64 as the Alipay console shows them (PKCS#8 or
//! PKCS#1 private keys, SPKI public keys). RSA2 keys are 2048 bits or more: smaller ones
//! are refused.
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RsaKeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

fn sorted_pairs<'a>(params: &'a [(String, String)], skip: &[&str]) -> String {
    let mut kept: Vec<&'a (String, String)> = params
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    kept.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The string a notification's signature covers: everything but `sign` and `sign_type`.
pub fn notification_signing_string(params: &[(String, String)]) -> String {
    sorted_pairs(params, &["sign", "sign_type"])
}

/// The string a request's signature covers: everything but `sign` (`sign_type` included).
pub fn request_signing_string(params: &[(String, String)]) -> String {
    sorted_pairs(params, &["sign"])
}

/// An RSA private key (ours, or the sandbox's), for signing.
#[derive(Clone)]
pub struct PrivateKey(RsaKeyPair);

/// An RSA public key (Alipay's, or the sandbox's), for verifying.
#[derive(Clone)]
pub struct PublicKey(ParsedPublicKey);

/// Never prints key material.
impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicKey(..)")
    }
}

impl PrivateKey {
    /// A fresh 2048-bit key pair (the sandbox provider's).
    pub fn generate() -> anyhow::Result<PrivateKey> {
        RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map(PrivateKey)
            .map_err(|_| anyhow::anyhow!("RSA key generation failed"))
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, self.0.public_key().as_ref())
                .expect("a key pair's own public key parses"),
        )
    }

    /// The public half as SPKI PEM (`BEGIN PUBLIC KEY`, LF line endings).
    pub fn public_key_pem(&self) -> String {
        let spki = self
            .0
            .public_key()
            .as_der()
            .expect("a key pair's own public key encodes");
        to_pem(spki.as_ref(), "PUBLIC KEY")
    }

    /// The whole key as PKCS#8 PEM (`BEGIN PRIVATE KEY`): how the sandbox keeps its key
    /// across restarts. Secret: never logged.
    pub fn private_key_pem(&self) -> String {
        use aws_lc_rs::encoding::Pkcs8V1Der;
        let pkcs8: Pkcs8V1Der = self.0.as_der().expect("a key pair encodes");
        to_pem(pkcs8.as_ref(), "PRIVATE KEY")
    }
}

/// Signs `text` (SHA256withRSA), base64.
pub fn sign(key: &PrivateKey, text: &str) -> String {
    let mut signature = vec![0; key.0.public_modulus_len()];
    key.0
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            text.as_bytes(),
            &mut signature,
        )
        .expect("PKCS#1 v1.5 signing with a valid key does not fail");
    STANDARD.encode(signature)
}

/// Whether `signature` (base64) is `key`'s signature of `text`.
pub fn verify(key: &PublicKey, text: &str, signature: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    key.0.verify_sig(text.as_bytes(), &bytes).is_ok()
}

/// PEM text (64-character lines, LF, a final newline) of `der`.
fn to_pem(der: &[u8], label: &str) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// A key as text: its PEM label (`None` for bare base64) and its DER bytes.
fn read_text(text: &str) -> anyhow::Result<(Option<String>, Vec<u8>)> {
    let text = text.trim();
    let (label, body) = match text.strip_prefix("-----BEGIN ") {
        None => (None, text),
        Some(rest) => {
            let (label, rest) = rest
                .split_once("-----")
                .ok_or_else(|| anyhow::anyhow!("malformed PEM header"))?;
            let footer = format!("-----END {label}-----");
            let body = rest
                .strip_suffix(footer.as_str())
                .ok_or_else(|| anyhow::anyhow!("PEM footer missing or not matching"))?;
            (Some(label.to_owned()), body)
        }
    };
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(body)
        .map_err(|e| anyhow::anyhow!("not base64: {e}"))?;
    Ok((label, der))
}

/// Whether `der` is an SPKI (`SEQUENCE { SEQUENCE { OID, … }, BIT STRING }`) rather than a
/// PKCS#1 `RSAPublicKey` (`SEQUENCE { INTEGER, INTEGER }`): the tag after the outer header.
fn is_spki(der: &[u8]) -> bool {
    let header = match der.get(1) {
        Some(&len) if len < 0x80 => 2,
        Some(&len) => 2 + usize::from(len & 0x7f),
        None => return false,
    };
    der.first() == Some(&0x30) && der.get(header) == Some(&0x30)
}

/// Reads a public key: SPKI or PKCS#1 PEM, or bare base64 SPKI.
pub fn parse_public_key(text: &str) -> anyhow::Result<PublicKey> {
    let (label, der) =
        read_text(text).map_err(|e| anyhow::anyhow!("not an RSA public key: {e}"))?;
    let spki = match label.as_deref() {
        None | Some("PUBLIC KEY") => true,
        Some("RSA PUBLIC KEY") => false,
        Some(other) => anyhow::bail!("not an RSA public key: PEM label {other}"),
    };
    if spki != is_spki(&der) {
        anyhow::bail!("not an RSA public key: the encoding does not match its label");
    }
    ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &der)
        .map(PublicKey)
        .map_err(|e| anyhow::anyhow!("not an RSA public key: {e}"))
}

/// Reads a private key: PKCS#8 or PKCS#1 PEM, or bare base64 of either.
pub fn parse_private_key(text: &str) -> anyhow::Result<PrivateKey> {
    let (label, der) =
        read_text(text).map_err(|e| anyhow::anyhow!("not an RSA private key: {e}"))?;
    let key = match label.as_deref() {
        Some("PRIVATE KEY") => RsaKeyPair::from_pkcs8(&der),
        Some("RSA PRIVATE KEY") => RsaKeyPair::from_der(&der),
        None => RsaKeyPair::from_pkcs8(&der).or_else(|_| RsaKeyPair::from_der(&der)),
        Some(other) => anyhow::bail!("not an RSA private key: PEM label {other}"),
    };
    key.map(PrivateKey)
        .map_err(|e| anyhow::anyhow!("not an RSA private key: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn signing_strings_sort_and_keep_values_as_received() {
        let params = vec![
            pair("b", "2 3"),
            pair("sign", "x"),
            pair("a", ""),
            pair("sign_type", "RSA2"),
        ];
        assert_eq!(notification_signing_string(&params), "a=&b=2 3");
        assert_eq!(request_signing_string(&params), "a=&b=2 3&sign_type=RSA2");
    }

    #[test]
    fn every_accepted_key_form_reads_and_signatures_round_trip() {
        use aws_lc_rs::encoding::Pkcs8V1Der;
        let key = PrivateKey::generate().unwrap();
        let pkcs8: Pkcs8V1Der = key.0.as_der().unwrap();
        let pkcs8_pem = to_pem(pkcs8.as_ref(), "PRIVATE KEY");
        let pkcs8_bare = STANDARD.encode(pkcs8.as_ref());
        let spki_pem = key.public_key_pem();
        let spki_bare: String = spki_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let pkcs1_public = key.0.public_key().as_ref().to_vec();
        let pkcs1_public_pem = to_pem(&pkcs1_public, "RSA PUBLIC KEY");

        let text = "a=1&b=2";
        let signature = sign(&key, text);
        for private in [&pkcs8_pem, &pkcs8_bare] {
            // PKCS#1 v1.5 is deterministic: the same key signs the same bytes.
            assert_eq!(sign(&parse_private_key(private).unwrap(), text), signature);
        }
        for public in [&spki_pem, &spki_bare, &pkcs1_public_pem] {
            let public = parse_public_key(public).unwrap();
            assert!(verify(&public, text, &signature));
            assert!(!verify(&public, "a=1&b=3", &signature));
        }
        assert!(verify(&key.public_key(), text, &signature));
        assert!(!verify(&key.public_key(), text, "not base64!"));
    }

    #[test]
    fn keys_whose_encoding_does_not_match_their_label_are_refused() {
        let key = PrivateKey::generate().unwrap();
        let pkcs1_public = key.0.public_key().as_ref().to_vec();
        // Bare base64 public keys are SPKI, as the console shows them.
        assert!(parse_public_key(&STANDARD.encode(&pkcs1_public)).is_err());
        assert!(parse_public_key(&to_pem(&pkcs1_public, "PUBLIC KEY")).is_err());
        let spki = key.0.public_key().as_der().unwrap();
        assert!(parse_public_key(&to_pem(spki.as_ref(), "RSA PUBLIC KEY")).is_err());
        assert!(parse_public_key(&to_pem(spki.as_ref(), "CERTIFICATE")).is_err());
        assert!(parse_private_key(&key.public_key_pem()).is_err());
        assert!(parse_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n").is_err());
    }
}
