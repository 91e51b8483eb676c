//! Reading a deleted item: its base type's fields and the three deletion fields, from one JSON
//! object in one pass.
//!
//! `#[serde(flatten)]` would do the same by first buffering every field of the object into
//! serde's generic `Content` tree (an allocation per key and string), which made a page of
//! deleted certificates cost more than twice a page of live ones. Here a map adapter takes the
//! deletion fields out as they pass and hands every other key to the base type's own
//! visitor.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;
use time::OffsetDateTime;

use super::encoding::unix_time;

/// The fields a deleted item carries beside its base type's.
#[derive(Default)]
pub(crate) struct DeletionFields {
    pub(crate) recovery_id: Option<String>,
    pub(crate) scheduled_purge_date: Option<OffsetDateTime>,
    pub(crate) deleted_on: Option<OffsetDateTime>,
}

/// Reads `B` and the deletion fields from the same JSON object.
pub(crate) fn deserialize<'de, D, B>(d: D) -> Result<(B, DeletionFields), D::Error>
where
    D: Deserializer<'de>,
    B: Deserialize<'de>,
{
    d.deserialize_map(Outer(PhantomData))
}

struct Outer<B>(PhantomData<B>);

impl<'de, B: Deserialize<'de>> Visitor<'de> for Outer<B> {
    type Value = (B, DeletionFields);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a deleted item (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut fields = DeletionFields::default();
        let base = B::deserialize(Sifted { map, fields: &mut fields })?;
        Ok((base, fields))
    }
}

/// The object with the deletion fields sifted out, as a deserializer (for the base type) and as
/// the map its visitor reads.
struct Sifted<'f, A> {
    map: A,
    fields: &'f mut DeletionFields,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Sifted<'_, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Sifted<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<Key<'de>>()? {
            match key.as_str() {
                "recoveryId" => self.fields.recovery_id = self.map.next_value()?,
                "scheduledPurgeDate" => self.fields.scheduled_purge_date = self.map.next_value::<Date>()?.0,
                "deletedDate" => self.fields.deleted_on = self.map.next_value::<Date>()?.0,
                _ => {
                    return match key {
                        Key::Borrowed(k) => seed.deserialize(BorrowedStrDeserializer::new(k)).map(Some),
                        Key::Owned(k) => {
                            let k: StringDeserializer<A::Error> = k.into_deserializer();
                            seed.deserialize(k).map(Some)
                        }
                    };
                }
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A key, borrowed from the body when it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(k) => k,
            Key::Owned(k) => k,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, k: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(k))
            }
            fn visit_str<E: de::Error>(self, k: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(k.to_owned()))
            }
            fn visit_string<E: de::Error>(self, k: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(k))
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// A Unix-seconds date (or `null`).
#[derive(Deserialize)]
struct Date(#[serde(with = "unix_time")] Option<OffsetDateTime>);

#[cfg(test)]
mod tests {
    use super::super::{DeletedCertificate, DeletedCertificateProperties, KeyVaultCertificate};

    /// cpp-KeyVaultCertificateClientTest.GetDeletedCertificate.json (entry 4), with a tag and an
    /// escaped key added.
    const DELETED: &str = r#"{"recoveryId": "https://v.vault.azure.net/deletedcertificates/c", "deletedDate": 1636058933,
        "scheduledPurgeDate": 1643834933, "id": "https://v.vault.azure.net/certificates/c/d39d726decf64687afd9a916ab204254",
        "x5t": "9SQrUd1cyzcNqqdTuprM5-l6lVo", "cer": "MIIDAzCCAeugAwIBAgIQ", "tags": {"a": "b"}, "futureField": [1, {"x": 2}],
        "attributes": {"enabled": true, "nbf": 1636058331, "exp": 1667594931, "created": 1636058931,
        "updated": 1636058931, "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}, "pr\u0065serveCertOrder": true}"#;

    #[test]
    fn a_deleted_certificate_reads_its_own_and_its_base_fields() {
        let deleted: DeletedCertificate = serde_json::from_str(DELETED).unwrap();
        assert_eq!(deleted.recovery_id.as_deref(), Some("https://v.vault.azure.net/deletedcertificates/c"));
        assert_eq!(deleted.deleted_on.unwrap().unix_timestamp(), 1636058933);
        assert_eq!(deleted.scheduled_purge_date.unwrap().unix_timestamp(), 1643834933);
        assert_eq!(deleted.certificate.name().as_deref(), Some("c"));
        assert_eq!(deleted.certificate.cer.as_deref().map(<[u8]>::len), Some(15));
        assert_eq!(deleted.certificate.tags.as_ref().unwrap()["a"], "b");
        assert_eq!(deleted.certificate.preserve_order, Some(true), "an escaped key still reaches the base type");
        assert_eq!(deleted.certificate.attributes.as_ref().unwrap().recoverable_days, Some(90));

        // The same object without the deletion fields reads as the base type alone.
        let live: KeyVaultCertificate = serde_json::from_str(DELETED).unwrap();
        assert_eq!(live, deleted.certificate);

        // Writing and reading back keeps everything.
        let again: DeletedCertificate = serde_json::from_str(&serde_json::to_string(&deleted).unwrap()).unwrap();
        assert_eq!(again, deleted);

        let properties: DeletedCertificateProperties = serde_json::from_str(DELETED).unwrap();
        assert_eq!(properties.recovery_id, deleted.recovery_id);
        assert_eq!(properties.properties.name().as_deref(), Some("c"));
    }

    #[test]
    fn bad_deleted_items_are_errors() {
        for (body, needle) in [
            (r#"{"deletedDate": "yesterday"}"#, "Unix time"),
            (r#"{"recoveryId": 5}"#, "string"),
            (r#"{"attributes": {"enabled": "yes"}}"#, "boolean"),
            (r#"[1, 2]"#, "deleted item"),
            (r#"{"recoveryId": "x""#, "EOF"),
        ] {
            let error = serde_json::from_str::<DeletedCertificate>(body).unwrap_err().to_string();
            assert!(error.contains(needle), "{body}: {error}");
        }
        assert!(serde_json::from_str::<DeletedCertificate>(r#"{"deletedDate": null}"#).unwrap().deleted_on.is_none());

        // The client's error names the JSON path, inside the base type too.
        let body = br#"{"recoveryId": "r", "attributes": {"enabled": "yes"}}"#;
        let error = crate::response::decode::<DeletedCertificate>(http::StatusCode::OK, body).unwrap_err();
        assert!(error.to_string().contains("attributes.enabled"), "{error}");
    }
}
