use super::*;

fn inst(domain: &str, level: &str) -> Instance {
    let t = now();
    Instance {
        domain: domain.into(),
        level: level.into(),
        reason: "r".into(),
        expires_at: None,
        allow_private: false,
        created_at: t,
        updated_at: t,
    }
}

#[test]
fn domains() {
    assert_eq!(parse_domain(" Beta.Example. ").unwrap(), "beta.example");
    assert_eq!(parse_domain("intranet").unwrap(), "intranet");
    assert_eq!(
        parse_domain("Beta.Example:8443").unwrap(),
        "beta.example:8443"
    );
    assert_eq!(host_part("beta.example:8443"), "beta.example");
    assert_eq!(host_part("beta.example"), "beta.example");
    assert_eq!(host_part("[::1]:8080"), "[::1]");
    for bad in [
        "",
        "a..b",
        "-a.b",
        "a_b.example",
        "beta.example:",
        "beta.example:0",
        "beta.example:70000",
        "beta.example:80:80",
        "http://x",
        "é.example",
        &"a".repeat(64),
    ] {
        assert!(parse_domain(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_block_beats_an_allow_and_covers_subdomains() {
    let rows = [inst("beta.example", "member"), inst("example", "blocked")];
    assert!(
        matches!(decide_from("beta.example", &rows), Decision::Blocked { by, .. } if by == "example")
    );
    assert_eq!(decide_from("beta.example", &rows[..1]), Decision::Member);
    assert_eq!(
        decide_from("gamma.example", &[inst("gamma.example", "partner")]),
        Decision::Partner
    );
    assert_eq!(decide_from("delta.example", &[]), Decision::Unknown);
    // An allow of a parent does not allow its subdomains.
    assert_eq!(
        decide_from("x.beta.example", &[inst("beta.example", "member")]),
        Decision::Unknown
    );
    assert_eq!(with_parents("a.b.c"), vec!["a.b.c", "b.c", "c"]);
    assert_eq!(with_parents("a.b:8443"), vec!["a.b:8443", "a.b", "b"]);
}

#[test]
fn trust_is_per_port_and_blocks_cover_every_port() {
    // An entry without a port is the instance on the default port only.
    assert_eq!(
        decide_from("beta.example:9999", &[inst("beta.example", "member")]),
        Decision::Unknown
    );
    assert_eq!(
        decide_from("beta.example:8443", &[inst("beta.example:8443", "partner")]),
        Decision::Partner
    );
    assert!(matches!(
        decide_from(
            "x.beta.example:9999",
            &[
                inst("x.beta.example:9999", "member"),
                inst("beta.example", "blocked")
            ]
        ),
        Decision::Blocked { .. }
    ));
}

#[test]
fn modes() {
    use FederationMode::*;
    assert!(Decision::Member.may_federate(Allowlist));
    assert!(Decision::Partner.may_federate(Allowlist));
    assert!(!Decision::Unknown.may_federate(Allowlist));
    assert!(Decision::Unknown.may_federate(Open));
    let b = Decision::Blocked {
        by: "x".into(),
        reason: String::new(),
    };
    assert!(!b.may_federate(Open));
    assert!(!b.may_federate(Allowlist));
}

#[test]
fn csv_fields() {
    assert_eq!(
        csv_split("a,\"b, c\",\"say \"\"hi\"\"\",").unwrap(),
        vec!["a", "b, c", "say \"hi\"", ""]
    );
    assert!(csv_split("a,\"open").is_err());
    assert_eq!(csv_field("x,y"), "\"x,y\"");
}
