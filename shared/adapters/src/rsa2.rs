//! Alipay's RSA2: SHA256withRSA, PKCS#1 v1.5, base64 signatures, through the maintained
//! `rsa` crate. The strings to sign follow Alipay's rules (and python-alipay-sdk's):
//! parameters sorted by key, `k=v` joined by `&`, values as received (decoded, unescaped).
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

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

/// Signs `text` (SHA256withRSA), base64.
pub fn sign(key: &RsaPrivateKey, text: &str) -> String {
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(text.as_bytes());
    STANDARD.encode(signature.to_bytes())
}

/// Whether `signature` (base64) is `key`'s signature of `text`.
pub fn verify(key: &RsaPublicKey, text: &str, signature: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(text.as_bytes(), &signature)
        .is_ok()
}

/// Wraps a bare base64 key (as the Alipay console shows them) into PEM.
fn as_pem(text: &str, label: &str) -> String {
    if text.contains("-----BEGIN") {
        return text.trim().to_owned();
    }
    let body: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let lines: Vec<String> = body
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----",
        lines.join("\n")
    )
}

/// Reads a public key: SPKI or PKCS#1 PEM, or bare base64 SPKI.
pub fn parse_public_key(text: &str) -> anyhow::Result<RsaPublicKey> {
    let pem = as_pem(text, "PUBLIC KEY");
    RsaPublicKey::from_public_key_pem(&pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(&pem))
        .map_err(|e| anyhow::anyhow!("not an RSA public key: {e}"))
}

/// Reads a private key: PKCS#8 or PKCS#1 PEM, or bare base64 of either.
pub fn parse_private_key(text: &str) -> anyhow::Result<RsaPrivateKey> {
    RsaPrivateKey::from_pkcs8_pem(&as_pem(text, "PRIVATE KEY"))
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(&as_pem(text, "RSA PRIVATE KEY")))
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
}
