//! Property tests: parsers never panic on arbitrary input, models round-trip, identifiers
//! round-trip.

use std::collections::BTreeMap;

use kvcerts_core::models::*;
use kvcerts_core::{Call, KeyVaultCertificateIdentifier, ListOptions, Operation, Vault, VaultOptions};
use proptest::prelude::*;
use serde_json::Value;
use time::OffsetDateTime;

fn vault() -> Vault {
    Vault::new("https://v.vault.azure.net").unwrap()
}

fn response(status: u16, body: Vec<u8>) -> http::Response<Vec<u8>> {
    let mut r = http::Response::new(body);
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
    r
}

/// Runs every operation's parser over one response; none may panic.
fn parse_with_every_parser(r: &http::Response<Vec<u8>>) {
    let v = vault();
    fn p<T>(call: Result<Call<T>, kvcerts_core::Error>, r: &http::Response<Vec<u8>>) {
        let _ = call.unwrap().parse(r);
    }
    p(v.create_certificate("c", &CertificatePolicy::default(), &Default::default()), r);
    p(v.get_certificate("c"), r);
    p(v.get_certificate_version("c", "v1"), r);
    p(v.update_certificate_properties("c", None, &Default::default()), r);
    p(v.delete_certificate("c"), r);
    p(v.get_certificate_policy("c"), r);
    p(v.update_certificate_policy("c", &CertificatePolicy::default()), r);
    p(v.get_certificate_operation("c"), r);
    p(v.cancel_certificate_operation("c"), r);
    p(v.delete_certificate_operation("c"), r);
    p(v.merge_certificate("c", &[vec![0x30, 0]], &Default::default()), r);
    p(v.backup_certificate("c"), r);
    p(v.restore_certificate_backup(&[1, 2]), r);
    p(v.get_deleted_certificate("c"), r);
    p(v.purge_deleted_certificate("c"), r);
    p(v.recover_deleted_certificate("c"), r);
    p(v.list_properties_of_certificates(&ListOptions::default()), r);
    p(v.list_properties_of_certificate_versions("c", &ListOptions::default()), r);
    p(v.list_deleted_certificates(&ListOptions::default()), r);
    p(v.list_properties_of_issuers(&ListOptions::default()), r);
    p(v.set_contacts(&[CertificateContact::new("a@b.c", None, None)]), r);
    p(v.get_contacts(), r);
    p(v.delete_contacts(), r);
    p(v.create_issuer("i", "Test", &Default::default()), r);
    p(v.update_issuer("i", None, &Default::default()), r);
    p(v.get_issuer("i"), r);
    p(v.delete_issuer("i"), r);
    p(v.download_certificate("c", None, None), r);
    p(
        v.next_page::<CertificateProperties>(
            Operation::ListPropertiesOfCertificates,
            "https://v.vault.azure.net/certificates?$skiptoken=x",
        ),
        r,
    );
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "[a-zA-Z0-9+/=_-]{0,12}".prop_map(Value::String),
    ];
    let keys = prop::sample::select(vec![
        "id",
        "kid",
        "sid",
        "x5t",
        "cer",
        "csr",
        "policy",
        "attributes",
        "enabled",
        "nbf",
        "exp",
        "created",
        "updated",
        "value",
        "nextLink",
        "error",
        "code",
        "message",
        "innererror",
        "contacts",
        "email",
        "status",
        "issuer",
        "name",
        "key_props",
        "x509_props",
        "sans",
        "lifetime_actions",
        "trigger",
        "recoveryId",
        "contentType",
        "tags",
        "provider",
        "credentials",
        "org_details",
        "admin_details",
    ]);
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone().prop_map(str::to_owned), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(status in prop::sample::select(vec![200u16, 201, 202, 204, 400, 401, 403, 404, 409, 429, 500, 503]), body in prop::collection::vec(any::<u8>(), 0..256)) {
        parse_with_every_parser(&response(status, body));
    }

    #[test]
    fn arbitrary_json_never_panics(status in prop::sample::select(vec![200u16, 202, 404, 409]), json in arb_json()) {
        parse_with_every_parser(&response(status, serde_json::to_vec(&json).unwrap()));
    }

    #[test]
    fn arbitrary_urls_and_imports_never_panic(text in ".{0,80}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Vault::new(&text);
        let _ = Vault::with_options(&text, VaultOptions::default().allow_insecure_loopback(true));
        let _ = KeyVaultCertificateIdentifier::parse(&text);
        let _ = kvcerts_core::pem::parse(&text);
        let _ = vault().import_certificate("c", &bytes, &Default::default());
        let _ = vault().import_certificate("c", text.as_bytes(), &Default::default());
        let _ = Operation::identify(&http::Method::GET, &text);
    }

    #[test]
    fn identifiers_round_trip(
        host in "[a-z][a-z0-9-]{0,20}\\.vault\\.azure\\.net",
        port in prop::option::of(1u16..),
        name in "[0-9a-zA-Z-]{1,127}",
        version in prop::option::of("[0-9a-f]{32}"),
        collection in prop::sample::select(vec!["certificates", "keys", "secrets"]),
    ) {
        let origin = match port { Some(p) if p != 443 => format!("https://{host}:{p}"), _ => format!("https://{host}") };
        let url = match &version { Some(v) => format!("{origin}/{collection}/{name}/{v}"), None => format!("{origin}/{collection}/{name}") };
        let id = KeyVaultCertificateIdentifier::parse(&url).unwrap();
        prop_assert_eq!(id.vault_url(), origin.as_str());
        prop_assert_eq!(id.name(), name.as_str());
        prop_assert_eq!(id.version(), version.as_deref());
        prop_assert_eq!(id.to_string(), url.clone());
        prop_assert_eq!(KeyVaultCertificateIdentifier::parse(&id.to_string()).unwrap(), id);
    }
}

// ---- model round trips ---------------------------------------------------------------------

fn opt<T: std::fmt::Debug + Clone + 'static>(s: impl Strategy<Value = T> + 'static) -> BoxedStrategy<Option<T>> {
    prop::option::of(s).boxed()
}

fn text() -> BoxedStrategy<String> {
    "[ -~]{0,16}".boxed()
}

fn date() -> BoxedStrategy<OffsetDateTime> {
    (0i64..4_000_000_000).prop_map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap()).boxed()
}

fn bytes() -> BoxedStrategy<Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..40).boxed()
}

fn tags() -> BoxedStrategy<Option<BTreeMap<String, String>>> {
    opt(prop::collection::btree_map("[a-z]{1,6}", "[ -~]{0,8}", 0..3))
}

fn open<T: From<String> + std::fmt::Debug + Clone + 'static>(known: &'static [&'static str]) -> BoxedStrategy<T> {
    prop_oneof![prop::sample::select(known).prop_map(|s| T::from(s.to_owned())), "[a-zA-Z+-]{1,10}".prop_map(T::from)]
        .boxed()
}

fn attributes() -> BoxedStrategy<CertificateAttributes> {
    (
        opt(any::<bool>()),
        opt(date()),
        opt(date()),
        opt(date()),
        opt(date()),
        opt(0i32..100),
        opt(open::<DeletionRecoveryLevel>(&["Purgeable", "Recoverable+Purgeable", "CustomizedRecoverable"])),
    )
        .prop_map(|(enabled, not_before, expires_on, created_on, updated_on, recoverable_days, recovery_level)| {
            CertificateAttributes {
                enabled,
                not_before,
                expires_on,
                created_on,
                updated_on,
                recoverable_days,
                recovery_level,
            }
        })
        .boxed()
}

fn policy() -> BoxedStrategy<CertificatePolicy> {
    let key = (
        opt(any::<bool>()),
        opt(open::<KeyType>(&["RSA", "EC", "RSA-HSM"])),
        opt(256u32..5000),
        opt(any::<bool>()),
        opt(open::<KeyCurveName>(&["P-256", "P-384"])),
    )
        .prop_map(|(exportable, key_type, key_size, reuse_key, curve)| KeyProperties {
            exportable,
            key_type,
            key_size,
            reuse_key,
            curve,
        });
    let sans = (
        opt(prop::collection::vec(text(), 0..3)),
        opt(prop::collection::vec(text(), 0..3)),
        opt(prop::collection::vec(text(), 0..2)),
    )
        .prop_map(|(emails, dns_names, ip_addresses)| SubjectAlternativeNames {
            emails,
            dns_names,
            ip_addresses,
            ..Default::default()
        });
    let x509 = (
        opt(text()),
        opt(prop::collection::vec(text(), 0..3)),
        opt(sans),
        opt(prop::collection::vec(open::<KeyUsageType>(&["digitalSignature", "keyEncipherment"]), 0..3)),
        opt(1u32..120),
        opt(any::<bool>()),
    )
        .prop_map(|(subject, enhanced_key_usage, subject_alternative_names, key_usage, validity_in_months, ca)| {
            X509CertificateProperties {
                subject,
                enhanced_key_usage,
                subject_alternative_names,
                key_usage,
                validity_in_months,
                basic_constraints: ca.map(|ca| BasicConstraints { ca: Some(ca) }),
            }
        });
    let action = (opt(1u32..99), opt(1u32..99), opt(open::<CertificatePolicyAction>(&["AutoRenew", "EmailContacts"])))
        .prop_map(|(p, d, a)| LifetimeAction {
            trigger: Some(LifetimeTrigger { lifetime_percentage: p, days_before_expiry: d }),
            action: Some(LifetimeActionType { action_type: a }),
        });
    let issuer = (opt(text()), opt(text()), opt(any::<bool>())).prop_map(
        |(name, certificate_type, certificate_transparency)| IssuerParameters {
            name,
            certificate_type,
            certificate_transparency,
        },
    );
    (
        opt(text()),
        opt(key),
        opt(open::<CertificateContentType>(&["application/x-pkcs12", "application/x-pem-file"])),
        opt(x509),
        opt(prop::collection::vec(action, 0..3)),
        opt(issuer),
        opt(attributes()),
    )
        .prop_map(
            |(id, key_properties, content_type, x509_properties, lifetime_actions, issuer_parameters, attributes)| {
                CertificatePolicy {
                    id,
                    key_properties,
                    secret_properties: content_type.map(|c| SecretProperties { content_type: Some(c) }),
                    x509_properties,
                    lifetime_actions,
                    issuer_parameters,
                    attributes,
                    platform_managed: None,
                }
            },
        )
        .boxed()
}

fn certificate() -> BoxedStrategy<KeyVaultCertificate> {
    (
        opt(text()),
        opt(text()),
        opt(text()),
        opt(bytes()),
        opt(policy()),
        opt(bytes()),
        opt(attributes()),
        tags(),
        opt(any::<bool>()),
        opt(text()),
    )
        .prop_map(|(id, key_id, secret_id, x509_thumbprint, policy, cer, attributes, tags, preserve_order, pending)| {
            KeyVaultCertificate {
                id,
                key_id,
                secret_id,
                x509_thumbprint,
                policy,
                cer,
                attributes,
                tags,
                preserve_order,
                pending: pending.map(|id| PendingOperationRef { id: Some(id) }),
                ..Default::default()
            }
        })
        .boxed()
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    model: &T,
) -> Result<(), TestCaseError> {
    let json = serde_json::to_vec(model).unwrap();
    let back: T = serde_json::from_slice(&json)
        .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&json))))?;
    prop_assert_eq!(&back, model);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn certificates_round_trip(c in certificate()) {
        round_trip(&c)?;
        // The bundle parser reads plain bodies itself (serde the rest): the same certificate.
        let json = serde_json::to_vec(&c).unwrap();
        let parsed = vault().get_certificate("x").unwrap().parse(&response(200, json)).unwrap();
        prop_assert_eq!(parsed, c);
    }

    #[test]
    fn deleted_certificates_round_trip(c in certificate(), recovery in opt(text()), purge in opt(date()), deleted in opt(date())) {
        round_trip(&DeletedCertificate { certificate: c, recovery_id: recovery, scheduled_purge_date: purge, deleted_on: deleted })?;
    }

    #[test]
    fn policies_round_trip(p in policy()) {
        round_trip(&p)?;
    }

    #[test]
    fn operations_round_trip(id in opt(text()), csr in opt(bytes()), cancel in opt(any::<bool>()),
        status in opt(open::<CertificateOperationStatus>(&["inProgress", "completed", "failed"])), details in opt(text()),
        code in opt(text()), target in opt(text())) {
        round_trip(&CertificateOperation {
            id, csr, cancellation_requested: cancel, status, status_details: details,
            error: code.map(|c| OperationError { code: Some(c), message: None, inner_error: Some(Box::default()) }),
            target, ..Default::default()
        })?;
    }

    #[test]
    fn pages_round_trip(items in prop::collection::vec((opt(text()), opt(attributes()), tags(), opt(bytes())), 0..5), next in opt("https://[a-z]{1,8}/x")) {
        let page = Page {
            value: items.into_iter().map(|(id, attributes, tags, x509_thumbprint)| CertificateProperties { id, attributes, tags, x509_thumbprint, ..Default::default() }).collect(),
            next_link: next,
        };
        round_trip(&page)?;
    }

    #[test]
    fn issuers_and_contacts_round_trip(account in opt(text()), pwd in opt(text()), admins in prop::collection::vec((opt(text()), opt(text())), 0..3),
        contacts in prop::collection::vec((opt(text()), opt(text()), opt(text())), 0..4)) {
        round_trip(&CertificateIssuer {
            id: None,
            provider: Some("Test".into()),
            credentials: Some(IssuerCredentials { account_id: account, password: pwd.map(SecretString::new) }),
            organization_details: Some(OrganizationDetails {
                id: None,
                admin_contacts: Some(admins.into_iter().map(|(first_name, email_address)| AdministratorDetails { first_name, email_address, ..Default::default() }).collect()),
                zip: Some(0),
            }),
            attributes: None,
        })?;
        round_trip(&CertificateContacts {
            id: None,
            contacts: contacts.into_iter().map(|(email, name, phone)| CertificateContact { email, name, phone }).collect(),
        })?;
    }
}
