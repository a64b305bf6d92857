#!/usr/bin/env python3
"""Directory sync benchmark: a real OpenLDAP (Debian's slapd, started here
on a free port) listing 10,000 people in 40 departments and 6 sites, then
`ruche admin directory sync` run twice: first with every account to make,
then after 500 changes (new department and site) and 50 leavers (deleted
from the directory). Everyone has a photo (`jpegPhoto`: a 240x240 JPEG of
their own, made with Pillow); the second run changes 100 of them. Prints,
for each run, the time and the peak resident memory of the ruche process,
and what it did of the accounts and of the photos.

    cargo build --release --bin ruche
    pip install pillow
    python3 bench/directory_sync.py [--ruche target/release/ruche]
        [--database-url postgres://postgres@127.0.0.1/postgres] [--people 10000]
        [--photos 10000]

With PostgreSQL, a fresh database is created on that server and dropped
afterwards; SQLite in a temporary folder otherwise.
"""
import argparse
import base64
import io
import os
import socket
import subprocess
import sys
import tempfile
import time

SUFFIX = "dc=corp,dc=example"
PEOPLE = "ou=people," + SUFFIX
ROOT = "cn=admin," + SUFFIX
ROOT_PW = "bench root secret"
SERVICE = "cn=ruche,ou=services," + SUFFIX
SERVICE_PW = "bench service secret"
SITES = ["Lyon", "Paris", "Grenoble", "Nantes", "Lille", "Bordeaux"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ldap_tool(tool, url, text):
    subprocess.run(
        [tool, "-x", "-c", "-H", url, "-D", ROOT, "-w", ROOT_PW],
        input=text.encode(),
        stdout=subprocess.DEVNULL,
        check=True,
    )


PICTURES = {}


def photo(i):
    """A 240x240 JPEG for person `i` (base64), as directories hold them (a
    few kilobytes): one of 40 pictures, with a comment naming the person so
    that each photo's bytes are its own."""
    from PIL import Image

    k = i % 40
    if k not in PICTURES:
        img = Image.new("RGB", (240, 240))
        img.putdata(
            [((x + k * 6) % 256, (y + k * 3) % 256, (x ^ y) % 256) for y in range(240) for x in range(240)]
        )
        out = io.BytesIO()
        img.save(out, "JPEG", quality=80)
        PICTURES[k] = out.getvalue()
    jpeg = PICTURES[k]
    comment = f"person {i}".encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return base64.b64encode(jpeg[:2] + segment + jpeg[2:]).decode()


def person(i, department, site, with_photo):
    return (
        f"dn: uid=p{i:05},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: p{i:05}\n"
        f"cn: Person {i}\nsn: {i}\nmail: p{i:05}@corp.example\n"
        f"departmentNumber: {department}\ntitle: Title {i % 97}\nl: {site}\n"
        f"manager: uid=p{(i // 10) * 10:05},{PEOPLE}\n"
        + (f"jpegPhoto:: {photo(i)}\n" if with_photo else "")
        + "\n"
    )


def run_sync(ruche, config, env):
    """One `ruche admin directory sync`: its time, its own peak resident
    memory (MB, from wait4) and its report line."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        child = subprocess.Popen(
            [ruche, "--config", config, "admin", "directory", "sync"],
            env=env,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            sys.exit(f"sync failed: {err.read().decode()}")
        lines = out.read().decode().strip().splitlines()
        report = lines[0]
        photos = next((l for l in lines if l.startswith("photos:")), "photos: none")
    return seconds, usage.ru_maxrss / 1024, report + "; " + photos


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ruche", default="target/release/ruche")
    ap.add_argument("--database-url", default="")
    ap.add_argument("--people", type=int, default=10000)
    ap.add_argument("--photos", type=int, default=10000)
    ap.add_argument(
        "--analyze",
        action="store_true",
        help="on PostgreSQL, ANALYZE after the first sync (what autovacuum does a while after a bulk load)",
    )
    args = ap.parse_args()
    ruche = os.path.abspath(args.ruche)
    tmp = tempfile.mkdtemp(prefix="ruche-directory-bench-")
    data = os.path.join(tmp, "ldap")
    os.mkdir(data)
    conf = os.path.join(tmp, "slapd.conf")
    with open(conf, "w") as f:
        f.write(
            "include /etc/ldap/schema/core.schema\n"
            "include /etc/ldap/schema/cosine.schema\n"
            "include /etc/ldap/schema/inetorgperson.schema\n"
            "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
            f"pidfile {tmp}/slapd.pid\ndatabase mdb\nmaxsize 1073741824\n"
            f'suffix "{SUFFIX}"\nrootdn "{ROOT}"\nrootpw "{ROOT_PW}"\n'
            f"directory {data}\nindex uid,mail eq\n"
            # The service account reads every person (OpenLDAP's default
            # limit is 500 entries a search, paged or not).
            f'limits dn.exact="{SERVICE}" size=unlimited\n'
            "access to attrs=userPassword by anonymous auth by self write by * none\n"
            "access to * by users read by * none\n"
        )
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    slapd = subprocess.Popen(
        ["/usr/sbin/slapd", "-h", url + "/", "-f", conf, "-d", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pg = None
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        seed = [
            f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Corp\ndc: corp\n\n",
            f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services\n\n",
            f"dn: {SERVICE}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
            f"cn: ruche\nuserPassword: {SERVICE_PW}\n\n",
            f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n",
        ]
        seed += [
            person(i, f"Department {i % 40}", SITES[i % len(SITES)], i < args.photos)
            for i in range(args.people)
        ]
        started = time.monotonic()
        ldap_tool("ldapadd", url, "".join(seed))
        print(f"directory: {args.people} people seeded in {time.monotonic() - started:.1f} s")

        if args.database_url:
            name = f"ruche_directory_bench_{os.getpid()}"
            subprocess.run(
                ["psql", args.database_url, "-qc", f"CREATE DATABASE {name}"], check=True
            )
            prefix = args.database_url.rsplit("/", 1)[0]
            db_url = f"{prefix}/{name}"
            pg = (args.database_url, name)
        else:
            db_url = f"sqlite://{tmp}/ruche.db"
        config = os.path.join(tmp, "ruche.toml")
        with open(config, "w") as f:
            f.write(
                f'[database]\nurl = "{db_url}"\n\n[accounts.ldap]\nurl = "{url}"\n'
                f'bind_dn = "{SERVICE}"\nbind_password = "{SERVICE_PW}"\n'
                f'base_dn = "{PEOPLE}"\ntimeout_seconds = 60\n'
            )
        env = dict(os.environ, RUCHE_LOG="warn")
        subprocess.run(
            [ruche, "--config", config, "migrate"], env=env, check=True,
            stdout=subprocess.DEVNULL,
        )
        s1, m1, r1 = run_sync(ruche, config, env)
        print(f"first sync:  {s1:6.1f} s, peak memory {m1:6.0f} MB  ({r1})")
        if args.analyze and pg:
            subprocess.run(["psql", db_url, "-qc", "ANALYZE"], check=True)

        changes = "".join(
            f"dn: uid=p{i:05},{PEOPLE}\nchangetype: modify\nreplace: departmentNumber\n"
            f"departmentNumber: Moved {i % 7}\n-\nreplace: l\nl: Marseille\n\n"
            for i in range(0, 1000, 2)
        )
        # 100 new photos.
        changes += "".join(
            f"dn: uid=p{i:05},{PEOPLE}\nchangetype: modify\nreplace: jpegPhoto\n"
            f"jpegPhoto:: {photo(i + 100_000)}\n\n"
            for i in range(1, min(args.photos, 2000), 20)
        )
        ldap_tool("ldapmodify", url, changes)
        gone = "".join(f"uid=p{i:05},{PEOPLE}\n" for i in range(5001, 5101, 2))
        ldap_tool("ldapdelete", url, gone)
        s2, m2, r2 = run_sync(ruche, config, env)
        print(f"second sync: {s2:6.1f} s, peak memory {m2:6.0f} MB  ({r2})")
    finally:
        slapd.kill()
        slapd.wait()
        if pg:
            subprocess.run(
                ["psql", pg[0], "-qc", f"DROP DATABASE IF EXISTS {pg[1]} WITH (FORCE)"]
            )
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
