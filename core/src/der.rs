//! Just enough DER to wrap legacy private keys in PKCS#8 (RFC 5208) for import.

/// One DER element: tag, and its contents.
pub(crate) struct Element<'a> {
    pub tag: u8,
    pub contents: &'a [u8],
}

/// Reads one element from the front of `input`; returns it and the rest.
pub(crate) fn read(input: &[u8]) -> Option<(Element<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((Element { tag, contents: &rest[..len] }, &rest[len..]))
}

/// Writes a DER element.
pub(crate) fn write(tag: u8, contents: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
}

const SEQUENCE: u8 = 0x30;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
/// DER of OID 1.2.840.113549.1.1.1 (rsaEncryption).
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// DER of OID 1.2.840.10045.2.1 (id-ecPublicKey).
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

fn private_key_info(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let mut inner = vec![0x02, 0x01, 0x00];
    write(SEQUENCE, algorithm, &mut inner);
    write(OCTET_STRING, key, &mut inner);
    let mut out = Vec::with_capacity(inner.len() + 4);
    write(SEQUENCE, &inner, &mut out);
    out
}

/// Wraps a PKCS#1 `RSAPrivateKey` in a PKCS#8 `PrivateKeyInfo`.
pub(crate) fn pkcs1_to_pkcs8(pkcs1: &[u8]) -> Result<Vec<u8>, String> {
    match read(pkcs1) {
        Some((Element { tag: SEQUENCE, .. }, [])) => {}
        _ => return Err("the RSA PRIVATE KEY block is not a DER RSAPrivateKey".into()),
    }
    let mut algorithm = Vec::new();
    write(OID, RSA_ENCRYPTION, &mut algorithm);
    algorithm.extend_from_slice(&[0x05, 0x00]);
    Ok(private_key_info(&algorithm, pkcs1))
}

/// Wraps a SEC1 `ECPrivateKey` in a PKCS#8 `PrivateKeyInfo`, taking the curve from its
/// parameters.
pub(crate) fn sec1_to_pkcs8(sec1: &[u8]) -> Result<Vec<u8>, String> {
    let malformed = || "the EC PRIVATE KEY block is not a DER ECPrivateKey".to_string();
    let (seq, rest) = read(sec1).ok_or_else(malformed)?;
    if seq.tag != SEQUENCE || !rest.is_empty() {
        return Err(malformed());
    }
    let mut fields = seq.contents;
    let mut curve = None;
    while !fields.is_empty() {
        let (element, rest) = read(fields).ok_or_else(malformed)?;
        if element.tag == 0xa0 {
            let (oid, _) = read(element.contents).ok_or_else(malformed)?;
            if oid.tag == OID {
                curve = Some(oid.contents);
            }
        }
        fields = rest;
    }
    let curve = curve
        .ok_or("the EC PRIVATE KEY has no curve parameters; convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)")?;
    let mut algorithm = Vec::new();
    write(OID, EC_PUBLIC_KEY, &mut algorithm);
    write(OID, curve, &mut algorithm);
    Ok(private_key_info(&algorithm, sec1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let contents = vec![7u8; len];
            let mut out = Vec::new();
            write(SEQUENCE, &contents, &mut out);
            let (e, rest) = read(&out).unwrap();
            assert_eq!(e.contents.len(), len);
            assert!(rest.is_empty());
        }
        assert!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(read(&[0x30, 0x05, 1]).is_none());
    }

    #[test]
    fn wraps_pkcs1() {
        let mut pkcs1 = Vec::new();
        write(SEQUENCE, &[0x02, 0x01, 0x00], &mut pkcs1);
        let p8 = pkcs1_to_pkcs8(&pkcs1).unwrap();
        let (outer, _) = read(&p8).unwrap();
        let (version, rest) = read(outer.contents).unwrap();
        assert_eq!(version.contents, &[0]);
        let (alg, rest) = read(rest).unwrap();
        assert_eq!(read(alg.contents).unwrap().0.contents, RSA_ENCRYPTION);
        assert_eq!(read(rest).unwrap().0.contents, &pkcs1[..]);
        assert!(pkcs1_to_pkcs8(b"garbage").is_err());
    }
}
