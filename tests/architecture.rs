//! The layers of `src/`, checked by reading the source (see ARCHITECTURE.md).
//!
//! Every top-level module belongs to one layer; a module may use modules of
//! its own layer or of a lower one, never of a higher one, and no two
//! modules may depend on each other, directly or through others. A path
//! `crate::x` (in code or in a `use crate::{…}` group) and a call of a
//! `#[macro_export]` macro defined in `x` both count as using `x`.
//!
//! `RUCHE_ARCHITECTURE_SRC` points the test at another source tree, which is
//! how it was shown to fail on the layout before the reshaping.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers, lowest first.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &[
            "error",
            "i18n",
            "config",
            "db",
            "addresses",
            "urls",
            "markdown",
            "images",
            "storage",
            "events",
            "net",
            "oidc",
            "ldap",
            "audience",
            "index",
            "settings",
            "mails",
        ],
    ),
    (
        "features",
        &[
            "accounts",
            "apps",
            "people",
            "follows",
            "content",
            "communities",
            "documents",
            "feed",
            "notifications",
            "onboarding",
            "stats",
            "digest",
            "actions",
            "search",
        ],
    ),
    ("doors", &["app", "federation", "mail", "web", "cli"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

fn src_dir() -> PathBuf {
    match std::env::var_os("RUCHE_ARCHITECTURE_SRC") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`None` for lib.rs and main.rs,
/// the composition root, which may use everything).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// Source without comments, string and char literals (so that prose and
/// messages cannot create or hide a dependency).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'r' && matches!(b.get(i + 1), Some(b'"') | Some(b'#')) {
            // Raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            j += 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            i = j + close.len();
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            i += 3;
            out.push_str("' '");
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            i += 2;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            let ch = text[i..].chars().next().expect("char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Modules named after `crate::` (and `$crate::`), including the members
/// of `crate::{a, b::{c}}` groups.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(pos) = rest.find("crate::") {
        let before = rest[..pos].chars().next_back();
        let after = &rest[pos + "crate::".len()..];
        rest = after;
        if before.is_some_and(|c| is_ident(c) && c != '$') {
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            // Top-level names of the group: after `{` or a `,` at depth 0.
            let mut depth = 0;
            let mut expecting = true;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => expecting = true,
                    c if expecting && is_ident(c) => name.push(c),
                    c if expecting && !c.is_whitespace() => {
                        if !name.is_empty() {
                            found.insert(std::mem::take(&mut name));
                        }
                        expecting = false;
                    }
                    c if expecting && c.is_whitespace() && !name.is_empty() => {
                        found.insert(std::mem::take(&mut name));
                        expecting = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                found.insert(name);
            }
        } else {
            let name: String = after.chars().take_while(|c| is_ident(*c)).collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// `#[macro_export] macro_rules! name` definitions: name -> defining module.
fn exported_macros(files: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (module, code) in files {
        let mut rest = code.as_str();
        while let Some(pos) = rest.find("#[macro_export]") {
            rest = &rest[pos + "#[macro_export]".len()..];
            let Some(m) = rest.trim_start().strip_prefix("macro_rules!") else {
                continue;
            };
            let name: String = m
                .trim_start()
                .chars()
                .take_while(|c| is_ident(*c))
                .collect();
            out.insert(name, module.clone());
        }
    }
    out
}

/// Which top-level modules each module uses.
fn dependencies(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    let files: Vec<(String, String)> = paths
        .iter()
        .filter_map(|p| {
            let module = module_of(src, p)?;
            let text = std::fs::read_to_string(p).expect("readable source");
            Some((module, code_only(&text)))
        })
        .collect();
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let macros = exported_macros(&files);
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, code) in &files {
        let entry = deps.entry(module.clone()).or_default();
        for name in crate_paths(code) {
            if let Some(owner) = macros.get(&name) {
                entry.insert(owner.clone());
            } else if modules.contains(&name) {
                entry.insert(name);
            }
        }
        for (name, owner) in &macros {
            let call = format!("{name}!");
            let used = code.match_indices(&call).any(|(i, _)| {
                !code[..i].ends_with(|c: char| is_ident(c)) && !code[..i].ends_with("macro_rules! ")
            });
            if used {
                entry.insert(owner.clone());
            }
        }
        entry.remove(module);
    }
    deps
}

/// Every cycle's modules (strongly connected components of more than one).
fn cycles(deps: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for d in deps.get(&m).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    };
    let mut out: Vec<BTreeSet<String>> = Vec::new();
    for m in deps.keys() {
        let from_m = reach(m);
        if !from_m.contains(m) {
            continue;
        }
        let component: BTreeSet<String> = from_m
            .iter()
            .filter(|o| reach(o).contains(m))
            .cloned()
            .collect();
        if !out.contains(&component) {
            out.push(component);
        }
    }
    out
}

#[test]
fn every_top_level_module_has_a_layer() {
    let deps = dependencies(&src_dir());
    let unplaced: Vec<&String> = deps.keys().filter(|m| layer_of(m).is_none()).collect();
    assert!(
        unplaced.is_empty(),
        "place these modules in a layer of tests/architecture.rs and ARCHITECTURE.md: {unplaced:?}"
    );
}

#[test]
fn no_module_uses_a_higher_layer() {
    let deps = dependencies(&src_dir());
    let mut wrong = Vec::new();
    for (module, used) in &deps {
        let Some(own) = layer_of(module) else {
            continue;
        };
        for u in used {
            if let Some(theirs) = layer_of(u) {
                if theirs > own {
                    wrong.push(format!(
                        "{module} ({}) uses {u} ({})",
                        LAYERS[own].0, LAYERS[theirs].0
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn features_use_neither_the_doors_nor_their_state() {
    // Said on its own, because it is the rule most often broken: a feature
    // that reaches `web`, `federation` or `app::AppState` can no longer be
    // called the same way from every door.
    let deps = dependencies(&src_dir());
    let mut wrong = Vec::new();
    for feature in LAYERS[1].1 {
        for door in ["web", "federation", "app", "cli"] {
            if deps.get(*feature).is_some_and(|d| d.contains(door)) {
                wrong.push(format!("{feature} uses {door}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_two_modules_depend_on_each_other() {
    let deps = dependencies(&src_dir());
    let found = cycles(&deps);
    assert!(found.is_empty(), "dependency cycles: {found:?}");
}

#[test]
fn the_reader_sees_paths_groups_and_macros() {
    // The checks above are only as good as this reader.
    let code = code_only(
        r#"
        use crate::{accounts::User, db::{now, DbConn}};
        // crate::web in a comment does not count
        let s = "crate::federation in a string does not count";
        $crate::events::record(c, e);
        "#,
    );
    let found = crate_paths(&code);
    assert_eq!(
        found,
        ["accounts", "db", "events"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    let mut deps = BTreeMap::new();
    deps.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    deps.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    deps.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    deps.insert("d".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(
        cycles(&deps),
        vec![BTreeSet::from(["a", "b", "c"].map(String::from))]
    );
}
