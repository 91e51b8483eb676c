//! Minimal PEM reading and writing (RFC 7468), for import validation and downloads.

use crate::models::encoding::{decode_base64, encode_standard};

/// One PEM block.
#[derive(Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label, e.g. `CERTIFICATE` or `PRIVATE KEY`.
    pub label: String,
    /// The decoded contents.
    pub der: Vec<u8>,
}

impl std::fmt::Debug for PemBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Blocks may be private keys: show only the label and size.
        write!(f, "PemBlock({}, {} bytes)", self.label, self.der.len())
    }
}

/// Whether the text looks like PEM (starts, after white space, with `-----BEGIN `).
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    bytes[start..].starts_with(b"-----BEGIN ")
}

/// Parses every PEM block in `text` (CRLF or LF line endings; text between blocks ignored).
pub fn parse(text: &str) -> Result<Vec<PemBlock>, String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after.find("-----").ok_or("a PEM BEGIN line is not closed with -----")?;
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let end =
            body_start.find(&end_marker).ok_or_else(|| format!("the PEM block {label:?} has no matching END line"))?;
        let body = &body_start[..end];
        let der =
            decode_base64(body.trim()).map_err(|e| format!("the PEM block {label:?} is not valid base64: {e}"))?;
        blocks.push(PemBlock { label: label.to_owned(), der });
        rest = &body_start[end + end_marker.len()..];
    }
    Ok(blocks)
}

/// Encodes DER as a PEM block with 64-character lines and LF endings.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = encode_standard(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_crlf() {
        let pem = encode("CERTIFICATE", &[1, 2, 3, 4, 5]);
        let crlf = pem.replace('\n', "\r\n");
        let blocks = parse(&format!("junk\r\n{crlf}{}", encode("PRIVATE KEY", &[9; 100]))).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].der, vec![1, 2, 3, 4, 5]);
        assert_eq!(blocks[1].label, "PRIVATE KEY");
        assert!(parse("-----BEGIN X-----\nAAAA").is_err());
        assert!(looks_like_pem(b"  \n-----BEGIN CERTIFICATE-----"));
    }
}
