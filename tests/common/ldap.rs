//! A real OpenLDAP server for the tests: Debian's `slapd`, started on a
//! free port with its own configuration and database in a temporary
//! folder, seeded (and later changed) with `ldapadd`, `ldapmodify` and
//! `ldapdelete` from `ldap-utils`.
//!
//! Without them the tests skip themselves, unless `RUCHE_REQUIRE_LDAP` is
//! set (as in CI), where their absence fails them.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::smtp::free_port;

pub const SUFFIX: &str = "dc=corp,dc=example";
pub const PEOPLE: &str = "ou=people,dc=corp,dc=example";
pub const SERVICE_DN: &str = "cn=ruche,ou=services,dc=corp,dc=example";
pub const SERVICE_PASSWORD: &str = "service account secret";
const ROOT_DN: &str = "cn=admin,dc=corp,dc=example";
const ROOT_PASSWORD: &str = "root secret of the tests";

/// Whether slapd and the LDAP tools are here (or the tests must fail).
pub fn available() -> bool {
    let runs = |tool: &str, arg: &str| {
        Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    let ok = std::path::Path::new("/usr/sbin/slapd").exists()
        && runs("ldapadd", "-VV")
        && runs("openssl", "version");
    if !ok {
        assert!(
            std::env::var("RUCHE_REQUIRE_LDAP").is_err(),
            "RUCHE_REQUIRE_LDAP is set but slapd, ldap-utils or openssl is not installed"
        );
        eprintln!(
            "skipped: slapd, ldap-utils or openssl is not installed (apt-get install slapd ldap-utils openssl)"
        );
    }
    ok
}

pub struct Slapd {
    pub url: String,
    /// With TLS ([`Slapd::start_tls`]): its `ldaps://localhost:…` address,
    /// and the authority (PEM) that signed its certificate.
    pub ldaps_url: Option<String>,
    pub ca_file: Option<std::path::PathBuf>,
    _dir: tempfile::TempDir,
    child: Child,
}

/// Runs `openssl` with `args` in `dir` (making the test's certificates).
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A certificate authority of the tests and a certificate it signed for
/// `localhost` (and no address): (ca, certificate, key).
fn certificates(dir: &std::path::Path) -> (String, String, String) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Corp test authority",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
    let path = |f: &str| dir.join(f).display().to_string();
    (path("ca.pem"), path("server.pem"), path("server.key"))
}

/// The company: a service account, people in two departments and sites
/// with their managers, and one who left but is still listed.
pub const COMPANY: &str = "\
dn: dc=corp,dc=example
objectClass: dcObject
objectClass: organization
o: Corp
dc: corp

dn: ou=services,dc=corp,dc=example
objectClass: organizationalUnit
ou: services

dn: cn=ruche,ou=services,dc=corp,dc=example
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: ruche
userPassword: service account secret

dn: ou=people,dc=corp,dc=example
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,dc=corp,dc=example
objectClass: inetOrgPerson
uid: alice
cn: Alice Martin
sn: Martin
givenName: Alice
mail: alice.martin@corp.example
departmentNumber: R&D
title: Engineer
l: Lyon
userPassword: alice directory secret

dn: uid=bob,ou=people,dc=corp,dc=example
objectClass: inetOrgPerson
uid: bob
cn: Bob Durand
sn: Durand
mail: bob.durand@corp.example
departmentNumber: Sales
title: Account manager
l: Paris
manager: uid=alice,ou=people,dc=corp,dc=example
userPassword: bob directory secret

dn: uid=dave,ou=people,dc=corp,dc=example
objectClass: inetOrgPerson
uid: dave
cn: Dave Petit
sn: Petit
mail: dave.petit@corp.example
departmentNumber: R&D
title: Technician
l: Lyon
manager: uid=alice,ou=people,dc=corp,dc=example
userPassword: dave directory secret

dn: uid=carol,ou=people,dc=corp,dc=example
objectClass: inetOrgPerson
uid: carol
cn: Carol Leroy
sn: Leroy
mail: carol.leroy@corp.example
departmentNumber: Sales
employeeType: left
userPassword: carol directory secret
";

impl Slapd {
    /// Starts slapd, seeded with `ldif`.
    pub async fn start(ldif: &str) -> Slapd {
        Slapd::start_limited(ldif, None).await
    }

    /// Starts slapd, whose searches by the service account return at most
    /// `size_limit` entries when given (as a directory that was not told
    /// to let it read everyone).
    pub async fn start_limited(ldif: &str, size_limit: Option<u32>) -> Slapd {
        Slapd::start_with(ldif, size_limit, false).await
    }

    /// Starts slapd with TLS as well: StartTLS on its `ldap://` address, and
    /// an `ldaps://` one, with a certificate for `localhost` signed by an
    /// authority of the tests.
    pub async fn start_tls(ldif: &str) -> Slapd {
        Slapd::start_with(ldif, None, true).await
    }

    async fn start_with(ldif: &str, size_limit: Option<u32>, tls: bool) -> Slapd {
        let dir = tempfile::tempdir().unwrap();
        let (tls_conf, ca) = if tls {
            let (ca, cert, key) = certificates(dir.path());
            (
                format!(
                    "TLSCACertificateFile {ca}\nTLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n"
                ),
                Some(std::path::PathBuf::from(ca)),
            )
        } else {
            (String::new(), None)
        };
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let conf = dir.path().join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include /etc/ldap/schema/core.schema\n\
                 include /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\n\
                 modulepath /usr/lib/ldap\n\
                 moduleload back_mdb\n\
                 pidfile {pid}\n\
                 {tls_conf}\
                 database mdb\n\
                 maxsize 104857600\n\
                 suffix \"{SUFFIX}\"\n\
                 rootdn \"{ROOT_DN}\"\n\
                 rootpw \"{ROOT_PASSWORD}\"\n\
                 directory {data}\n\
                 index uid,mail eq\n\
                 {limits}\
                 access to attrs=userPassword by anonymous auth by self write by * none\n\
                 access to * by users read by * none\n",
                pid = dir.path().join("slapd.pid").display(),
                limits = size_limit.map_or(String::new(), |n| format!(
                    "limits dn.exact=\"{SERVICE_DN}\" size={n}\n"
                )),
                data = data.display(),
            ),
        )
        .unwrap();
        // A port found free may be taken by another test's server before
        // slapd binds it (it then exits at once): a few tries, each with
        // new ports, and up to 10 s for a loaded machine to start it.
        let mut tries = 0;
        let (child, url, ldaps_url) = loop {
            tries += 1;
            let port = free_port();
            let url = format!("ldap://127.0.0.1:{port}");
            let tls_port = free_port();
            let ldaps_url = tls.then(|| format!("ldaps://localhost:{tls_port}"));
            let listen = match &ldaps_url {
                Some(_) => format!("{url}/ ldaps://127.0.0.1:{tls_port}/"),
                None => format!("{url}/"),
            };
            let mut child = Command::new("/usr/sbin/slapd")
                .args(["-h", &listen, "-f"])
                .arg(&conf)
                .args(["-d", "0"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("slapd starts");
            let mut up = false;
            for _ in 0..200 {
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                let listening = |p: u16| std::net::TcpStream::connect(("127.0.0.1", p)).is_ok();
                if listening(port) && (!tls || listening(tls_port)) {
                    // Another server on the port, ours gone: seen by now.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    up = child.try_wait().ok().flatten().is_none();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if up {
                break (child, url, ldaps_url);
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(tries < 5, "slapd did not start");
        };
        let slapd = Slapd {
            url,
            ldaps_url,
            ca_file: ca,
            _dir: dir,
            child,
        };
        slapd.tool("ldapadd", ldif);
        slapd
    }

    fn tool(&self, tool: &str, input: &str) {
        let mut child = Command::new(tool)
            .args(["-x", "-H", &self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Applies an LDIF of changes (`changetype: modify`…).
    pub fn modify(&self, ldif: &str) {
        self.tool("ldapmodify", ldif);
    }

    /// Adds entries.
    pub fn add(&self, ldif: &str) {
        self.tool("ldapadd", ldif);
    }

    /// Deletes the entry `dn`.
    pub fn delete(&self, dn: &str) {
        self.tool("ldapdelete", &format!("{dn}\n"));
    }

    /// Ruche's configuration for this directory, as an administrator sets
    /// it (through the environment here), checked as at start-up.
    pub fn config(&self) -> ruche::config::LdapConfig {
        self.config_at(&self.url, false, None)
    }

    /// The configuration reaching this directory at `url` (with StartTLS,
    /// and trusting only `ca_file`, when given).
    pub fn config_at(
        &self,
        url: &str,
        starttls: bool,
        ca_file: Option<&str>,
    ) -> ruche::config::LdapConfig {
        ruche::Config::load_from(None, &self.env_at(url, starttls, ca_file))
            .expect("a valid directory configuration")
            .accounts
            .ldap
    }

    /// The environment that configures a `ruche` process for this
    /// directory at `url` (plain LDAP when `url` is [`Self::url`]).
    pub fn env_at(
        &self,
        url: &str,
        starttls: bool,
        ca_file: Option<&str>,
    ) -> Vec<(String, String)> {
        [
            ("RUCHE_ACCOUNTS_LDAP_URL", url),
            (
                "RUCHE_ACCOUNTS_LDAP_STARTTLS",
                if starttls { "true" } else { "false" },
            ),
            ("RUCHE_ACCOUNTS_LDAP_CA_FILE", ca_file.unwrap_or("")),
            ("RUCHE_ACCOUNTS_LDAP_BIND_DN", SERVICE_DN),
            ("RUCHE_ACCOUNTS_LDAP_BIND_PASSWORD", SERVICE_PASSWORD),
            ("RUCHE_ACCOUNTS_LDAP_BASE_DN", PEOPLE),
            ("RUCHE_ACCOUNTS_LDAP_DISABLED_FILTER", "(employeeType=left)"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
