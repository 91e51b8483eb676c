//! Paging (maxresults, $skiptoken, nextLink, includePending), contacts and issuers.

mod common;

use std::collections::BTreeSet;

use common::{ec_policy, start, Client};
use serde_json::json;

#[test]
fn paging_follows_next_links() {
    let emu = start();
    let c = Client::new(&emu);
    for i in 0..5 {
        c.create_and_wait(&format!("page{i}"), ec_policy("CN=p"));
    }
    let mut seen = BTreeSet::new();
    let mut pages = 0;
    let mut url = "/certificates?maxresults=2".to_string();
    loop {
        let r = c.get(&url);
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        for item in r.json["value"].as_array().unwrap() {
            assert!(item.get("cer").is_none());
            assert!(item["x5t"].is_string());
            assert!(item["attributes"].get("recoveryLevel").is_none());
            seen.insert(item["id"].as_str().unwrap().to_string());
        }
        match r.json["nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&format!("{}/certificates?api-version=", c.base)));
                assert!(next.contains("$skiptoken="));
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    assert!(seen.contains(&format!("{}/certificates/page3", c.base)));

    for bad in ["0", "26", "x", "-1"] {
        let r = c.get(&format!("/certificates?maxresults={bad}"));
        assert_eq!(r.status, 400, "maxresults={bad}");
        assert_eq!(r.json["error"]["code"], "BadParameter");
    }
    assert_eq!(c.get("/certificates?$skiptoken=%%%").status, 400);

    // Versions page too.
    for _ in 0..2 {
        c.send("POST", "/certificates/page0/create", Some(&json!({})));
        c.wait_operation("page0");
    }
    let r = c.get("/certificates/page0/versions?maxresults=2");
    assert_eq!(r.json["value"].as_array().unwrap().len(), 2);
    let next = r.json["nextLink"].as_str().unwrap().to_string();
    let r = c.get(&next);
    assert_eq!(r.json["value"].as_array().unwrap().len(), 1);
    assert!(r.json["nextLink"].is_null());
}

#[test]
fn include_pending_lists_certificates_still_being_created() {
    let emu = start();
    let c = Client::new(&emu);
    let r = c.send(
        "POST",
        "/certificates/pend/create",
        Some(&json!({"policy": {"key_props": {"kty": "EC"}, "x509_props": {"subject": "CN=p"}, "issuer": {"name": "Unknown"}}})),
    );
    assert_eq!(r.status, 202);
    assert_eq!(c.get("/certificates").json["value"], json!([]));
    let r = c.get("/certificates?includePending=true");
    assert_eq!(r.json["value"][0]["id"], format!("{}/certificates/pend", c.base));
}

#[test]
fn contacts_set_get_delete() {
    let emu = start();
    let c = Client::new(&emu);
    assert_eq!(c.get("/certificates/contacts").status, 404);
    let contacts = json!({"contacts": [
        {"email": "one@two.org", "name": "giqu", "phone": "1234567890"},
        {"email": "two@three.org", "name": "giqu2"}
    ]});
    let r = c.send("PUT", "/certificates/contacts", Some(&contacts));
    assert_eq!(r.status, 200);
    assert_eq!(r.json["id"], format!("{}/certificates/contacts", c.base));
    assert_eq!(r.json["contacts"], contacts["contacts"]);
    assert_eq!(c.get("/certificates/contacts").json, r.json);
    let d = c.send("DELETE", "/certificates/contacts", None);
    assert_eq!(d.status, 200);
    assert_eq!(d.json, r.json);
    assert_eq!(c.get("/certificates/contacts").status, 404);
}

#[test]
fn issuers_crud_never_echo_the_password() {
    let emu = start();
    let c = Client::new(&emu);
    let body = json!({
        "provider": "Test",
        "credentials": {"account_id": "keyvaultuser", "pwd": "hunter2"},
        "org_details": {"admin_details": [{"first_name": "John", "last_name": "Doe", "email": "admin@microsoft.com", "phone": "4255555555"}]}
    });
    let r = c.send("PUT", "/certificates/issuers/issuer01", Some(&body));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["id"], format!("{}/certificates/issuers/issuer01", c.base));
    assert_eq!(r.json["credentials"], json!({"account_id": "keyvaultuser"}));
    assert!(!r.text.contains("hunter2"));
    assert_eq!(r.json["attributes"]["enabled"], true);
    assert_eq!(r.json["org_details"]["admin_details"][0]["first_name"], "John");

    let r = c.send(
        "PATCH",
        "/certificates/issuers/issuer01",
        Some(&json!({"provider": "Test2", "attributes": {"enabled": false}})),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json["provider"], "Test2");
    assert_eq!(r.json["attributes"]["enabled"], false);
    assert_eq!(r.json["credentials"], json!({"account_id": "keyvaultuser"}));

    c.send("PUT", "/certificates/issuers/issuer02", Some(&json!({"provider": "Test"})));
    let list = c.get("/certificates/issuers");
    assert_eq!(
        list.json,
        json!({"value": [
            {"id": format!("{}/certificates/issuers/issuer01", c.base), "provider": "Test2"},
            {"id": format!("{}/certificates/issuers/issuer02", c.base), "provider": "Test"}
        ], "nextLink": null})
    );
    assert_eq!(c.get("/certificates/issuers/issuer02").status, 200);
    assert_eq!(c.send("DELETE", "/certificates/issuers/issuer02", None).status, 200);
    let r = c.get("/certificates/issuers/issuer02");
    assert_eq!(r.status, 404);
    assert_eq!(r.json["error"]["code"], "CertificateIssuerNotFound");
    assert_eq!(c.send("PUT", "/certificates/issuers/x", Some(&json!({}))).status, 400);
    assert_eq!(c.send("PATCH", "/certificates/issuers/nope", Some(&json!({"provider": "a"}))).status, 404);
}
