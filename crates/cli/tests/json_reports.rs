//! `--json` on the maintainer's commands that change a repo: `sign`, `verify`, `publish`,
//! `prune` and the `fleet` writes each print one object whose values are what the repo now
//! holds (checked with the stock `ostree` CLI), whose fields are those its committed schema in
//! docs/json/ documents, and a failure prints nothing on stdout (exit status 1).

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

const REF: &str = "mxos/10/x86_64/demo";
const CHANNEL: &str = "mxos/10/x86_64/demo/estable";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// Runs `mxos-compose --json ARGS`, checks the object against its schema file, returns it.
fn json(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = compose(&all);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    conforms(&v);
    v
}

/// The report's fields are exactly those its schema names (the required ones present, no
/// others), recursively for nested objects the schema describes by `$ref`.
fn conforms(v: &Value) {
    let tag = v["schema"].as_str().expect("a `schema` field");
    let name = tag.split_once('/').unwrap().0;
    let path = workspace().join(format!("docs/json/{name}.schema.json"));
    let schema: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    check_object(v, &schema, &schema, tag);
}

/// Follows `$ref`, and for an optional field (`anyOf: [X, null]`) its non-null side.
fn resolve<'a>(node: &'a Value, root: &'a Value) -> &'a Value {
    if let Some(branch) = node["anyOf"]
        .as_array()
        .and_then(|b| b.iter().find(|n| n["type"] != "null"))
    {
        return resolve(branch, root);
    }
    match node["$ref"].as_str() {
        Some(r) => {
            let def = r.rsplit('/').next().unwrap();
            &root["$defs"][def]
        }
        None => node,
    }
}

fn check_object(v: &Value, node: &Value, root: &Value, at: &str) {
    let node = resolve(node, root);
    let Some(props) = node["properties"].as_object() else {
        return;
    };
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{at}: not an object: {v}"));
    let have: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
    let known: BTreeSet<&str> = props.keys().map(String::as_str).collect();
    assert!(
        have.is_subset(&known),
        "{at}: fields {:?} are not in the schema",
        have.difference(&known).collect::<Vec<_>>()
    );
    for r in node["required"].as_array().into_iter().flatten() {
        let r = r.as_str().unwrap();
        assert!(have.contains(r), "{at}: required field `{r}` missing: {v}");
    }
    for (k, sub) in obj {
        let p = resolve(&props[k], root);
        if sub.is_object() {
            check_object(sub, p, root, &format!("{at}.{k}"));
        }
        if let (Some(items), Some(list)) = (p.get("items"), sub.as_array()) {
            for item in list.iter().filter(|i| i.is_object()) {
                check_object(item, items, root, &format!("{at}.{k}[]"));
            }
        }
    }
}

fn rev_parse(repo: &Path, rev: &str) -> String {
    ostree(&["--repo", &s(repo), "rev-parse", rev])
        .trim()
        .to_owned()
}

#[test]
fn maintainer_commands_report_as_json_what_the_repo_now_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, public) = (t.join("build"), t.join("public"));
    let keygen = json(&["keygen", &s(&t.join("mxos"))]);
    let key = s(&t.join("mxos.secret"));
    let pubkey = fs::read_to_string(t.join("mxos.pub"))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(keygen["public_key"], pubkey.as_str());

    let c1 = tiny_os_commit(&build, REF, "10.1", "2026-11-01T00:00:00Z");
    let signed = json(&["sign", "--repo", &s(&build), REF, "--key", &key]);
    assert_eq!(signed["checksum"], c1.as_str());
    assert_eq!(signed["ed25519"], pubkey.as_str());
    assert_eq!(signed["gpg_key_id"], Value::Null);
    let verified = json(&[
        "verify",
        "--repo",
        &s(&build),
        REF,
        "--pubkey",
        &s(&t.join("mxos.pub")),
    ]);
    assert_eq!(verified["checksum"], c1.as_str());
    assert_eq!(verified["key"], pubkey.as_str());

    // A signature by a key the file does not trust: exit 1, an error, nothing on stdout.
    compose(&["keygen", &s(&t.join("other"))]);
    let out = Command::new(env!("CARGO_BIN_EXE_mxos-compose"))
        .args(["--json", "verify", "--repo", &s(&build), REF, "--pubkey"])
        .arg(t.join("other.pub"))
        .env("LANG", "C.UTF-8")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(&c1), "{err}");

    // Publish v1, then v2 (one delta), then v3 with deltas from both.
    let url = "http://mirror.escuela.invalid/mxos";
    let publish = |extra: &[&str]| {
        let mut args = vec![
            "publish",
            "--repo",
            build.to_str().unwrap(),
            "--to",
            public.to_str().unwrap(),
            "--sign-key",
            &key,
            "--url",
            url,
        ];
        args.extend_from_slice(extra);
        json(&args)
    };
    let p1 = publish(&[]);
    assert_eq!(
        p1["refs"],
        serde_json::json!([{ "ref": REF, "checksum": c1 }])
    );
    assert_eq!(p1["deltas"], serde_json::json!([]));
    assert_eq!(p1["remote_config"], s(&public.join("mxos.conf")).as_str());
    assert_eq!(
        fs::read_to_string(p1["public_key"].as_str().unwrap())
            .unwrap()
            .trim(),
        pubkey
    );
    assert_eq!(p1["gpg_public_key"], Value::Null);
    assert_eq!(rev_parse(&public, REF), c1);

    let c2 = tiny_os_commit(&build, REF, "10.2", "2026-11-02T00:00:00Z");
    compose(&["sign", "--repo", &s(&build), REF, "--key", &key]);
    let p2 = publish(&[]);
    assert_eq!(p2["deltas"], serde_json::json!([{ "from": c1, "to": c2 }]));
    let c3 = tiny_os_commit(&build, REF, "10.3", "2026-11-03T00:00:00Z");
    compose(&["sign", "--repo", &s(&build), REF, "--key", &key]);
    let p3 = publish(&["--deltas", "2", "--delta-from-scratch"]);
    let deltas: BTreeSet<(Option<String>, String)> = p3["deltas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["from"].as_str().map(str::to_owned),
                d["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        deltas,
        BTreeSet::from([
            (Some(c1.clone()), c3.clone()),
            (Some(c2.clone()), c3.clone()),
            (None, c3.clone()),
        ])
    );
    let listed = ostree(&["--repo", &s(&public), "static-delta", "list"]);
    for name in [format!("{c1}-{c3}"), format!("{c2}-{c3}"), c3.clone()] {
        assert!(listed.contains(&name), "{name} not listed:\n{listed}");
    }

    // Prune to two commits: v1 and every delta from it go.
    let pruned = json(&[
        "prune",
        "--public",
        &s(&public),
        "--keep",
        "2",
        "--sign-key",
        &key,
    ]);
    assert_eq!(pruned["commits_deleted"], serde_json::json!([c1]));
    let gone: BTreeSet<String> = pruned["deltas_deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}-{}",
                d["from"].as_str().unwrap(),
                d["to"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        gone,
        BTreeSet::from([format!("{c1}-{c2}"), format!("{c1}-{c3}")])
    );
    assert!(pruned["objects_deleted"].as_u64().unwrap() > 0, "{pruned}");
    assert!(pruned["bytes_freed"].as_u64().unwrap() > 0, "{pruned}");
    let listed = ostree(&["--repo", &s(&public), "static-delta", "list"]);
    assert!(!listed.contains(&c1), "{listed}");

    // The fleet writes: each reports the manifest now published.
    let fleet = |args: &[&str]| {
        let mut all = vec!["fleet"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--public", public.to_str().unwrap(), "--sign-key", &key]);
        json(&all)
    };
    let promoted = fleet(&[
        "promote",
        CHANNEL,
        "--to",
        REF,
        "--ref",
        REF,
        "--rollout-percentage",
        "25",
    ]);
    assert_eq!(promoted["action"], "promote");
    let m = &promoted["manifest"];
    assert_eq!(
        (
            m["schema"].as_u64(),
            m["channel"].as_str(),
            m["ref"].as_str(),
            m["serial"].as_u64(),
            m["target"]["commit"].as_str(),
            m["target"]["version"].as_str(),
            m["paused"].as_bool()
        ),
        (
            Some(1),
            Some(CHANNEL),
            Some(REF),
            Some(1),
            Some(c3.as_str()),
            Some("10.3"),
            Some(false)
        )
    );
    let now = promoted["rollout_percentage_now"].as_f64().unwrap();
    assert!((25.0..26.0).contains(&now), "{promoted}");
    assert_eq!(promoted["reissued"], Value::Null);

    let paused = fleet(&["pause", CHANNEL]);
    assert_eq!(
        (
            paused["action"].as_str(),
            paused["manifest"]["paused"].as_bool(),
            paused["manifest"]["serial"].as_u64()
        ),
        (Some("pause"), Some(true), Some(2))
    );
    let resumed = fleet(&["resume", CHANNEL]);
    assert_eq!(
        (
            resumed["action"].as_str(),
            resumed["manifest"]["paused"].as_bool(),
            resumed["manifest"]["serial"].as_u64()
        ),
        (Some("resume"), Some(false), Some(3))
    );
    // `fleet show --json` is the signed document itself, which the last write reported.
    let shown: Value = serde_json::from_str(&compose(&[
        "--json",
        "fleet",
        "show",
        CHANNEL,
        "--public",
        &s(&public),
    ]))
    .unwrap();
    assert_eq!(shown, resumed["manifest"]);

    let rolled = compose(&[
        "--json",
        "fleet",
        "rollback",
        CHANNEL,
        "--repo",
        &s(&build),
        "--to",
        &c2,
        "--public",
        &s(&public),
        "--sign-key",
        &key,
    ]);
    let rolled: Value = serde_json::from_str(&rolled).unwrap();
    conforms(&rolled);
    let head = rev_parse(&public, REF);
    assert_ne!(head, c2, "a rollback is a new commit");
    assert_eq!(rolled["action"], "rollback");
    assert_eq!(
        rolled["reissued"],
        serde_json::json!({ "from": c2, "commit": head })
    );
    assert_eq!(rolled["manifest"]["target"]["commit"], head.as_str());
    assert_eq!(rolled["manifest"]["serial"], 4);
}
