//! `mxos-update`'s one catalogue: both languages have the same messages with the same
//! variables, every message the code names exists, none is dead, and each refusal a person
//! can meet without a remote reads in Spanish under `LANG=es_MX.UTF-8` (the refusals that
//! need a published repo are asserted in Spanish in e2e.rs and fleet.rs).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use mxos_agent::i18n::{Lang, CATALOGUES};

/// id → the variables its text uses, from a Fluent file (one message per entry; continuation
/// lines are indented).
fn messages(ftl: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current = None;
    for line in ftl.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let (id, _) = line.split_once(" =").unwrap_or_else(|| panic!("{line}"));
            assert!(
                out.insert(id.to_owned(), BTreeSet::new()).is_none(),
                "{id} twice"
            );
            current = Some(id.to_owned());
        }
        let vars = out.get_mut(current.as_ref().unwrap()).unwrap();
        for part in line.split("{ $").skip(1) {
            vars.insert(part.split(' ').next().unwrap().to_owned());
        }
    }
    out
}

#[test]
fn both_languages_have_the_same_messages_and_variables() {
    let mut all = Vec::new();
    for (lang, text) in CATALOGUES {
        let parsed = fluent_bundle::FluentResource::try_new(text.to_owned());
        assert!(parsed.is_ok(), "{lang:?}: {:?}", parsed.err().map(|e| e.1));
        all.push((lang, messages(text)));
    }
    let (es, en) = (&all[0].1, &all[1].1);
    let es_ids: BTreeSet<_> = es.keys().collect();
    let en_ids: BTreeSet<_> = en.keys().collect();
    assert_eq!(
        es_ids.difference(&en_ids).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "in es-MX only"
    );
    assert_eq!(
        en_ids.difference(&es_ids).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "in English only"
    );
    for (id, vars) in es {
        assert_eq!(vars, &en[id], "variables of {id}");
    }
    assert!(es.len() > 100, "{} messages", es.len());
}

fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push((p.clone(), fs::read_to_string(&p).unwrap()));
        }
    }
}

/// Ids the device side's code names literally: `t!("id"`, `refuse!("id"`, `say("id")`, also
/// with the id on the next line.
fn named_in_code() -> BTreeMap<String, PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    sources(&root.join("crates/agent/src"), &mut files);
    // The installer runs on the device too (`mxos-update install`).
    sources(&root.join("crates/media/src/install"), &mut files);
    for f in ["update.rs", "update_reports.rs", "install.rs"] {
        let p = root.join("crates/cli/src").join(f);
        files.push((p.clone(), fs::read_to_string(&p).unwrap()));
    }
    let mut ids = BTreeMap::new();
    for (path, text) in files {
        for marker in ["t!(", "refuse!(", "say("] {
            for (at, _) in text.match_indices(marker) {
                // `format!(` ends in `t!(` too: the macro's name must start here.
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = text[at + marker.len()..].trim_start();
                if let Some(quoted) = rest.strip_prefix('"') {
                    ids.insert(quoted.split('"').next().unwrap().to_owned(), path.clone());
                }
            }
        }
    }
    ids
}

/// The help texts `command_in` looks up by the shape of the command line.
fn help_ids() -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cmd = mxos_cli::update::command();
    cmd.build();
    for a in cmd.get_arguments() {
        ids.insert(format!("cli-arg-{}", a.get_id()));
    }
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        ids.insert(format!("cli-{name}"));
        ids.insert(format!("cli-{name}-after-help"));
        for a in sub.get_arguments().filter(|a| !a.is_global_set()) {
            if a.get_id() != "help" {
                ids.insert(format!("cli-{name}-{}", a.get_id()));
            }
        }
    }
    for h in [
        "name",
        "synopsis",
        "description",
        "options",
        "subcommands",
        "version",
        "extra",
    ] {
        ids.insert(format!("man-{h}"));
    }
    ids
}

#[test]
fn every_message_the_code_names_exists_and_none_is_dead() {
    let catalogue = messages(CATALOGUES[1].1);
    let named = named_in_code();
    let missing: Vec<String> = named
        .iter()
        .filter(|(id, _)| !catalogue.contains_key(*id))
        .map(|(id, p)| format!("{id} ({})", p.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "named in code, not in the catalogue: {missing:#?}"
    );
    let help = help_ids();
    for id in &help {
        if !id.ends_with("-after-help") || id == "cli-check-after-help" {
            assert!(catalogue.contains_key(id), "{id} missing");
        }
    }
    let dead: Vec<&String> = catalogue
        .keys()
        .filter(|id| !named.contains_key(*id) && !help.contains(*id))
        .collect();
    assert!(
        dead.is_empty(),
        "in the catalogue, used by nothing: {dead:#?}"
    );
    for lang in [Lang::Es, Lang::En] {
        for id in catalogue.keys() {
            assert!(mxos_agent::i18n::Text::exists(id, lang), "{id} in {lang:?}");
        }
    }
}

const ES: &[(&str, &str)] = &[("LANG", "es_MX.UTF-8")];

fn remote_conf(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("mxos.conf");
    fs::write(&p, body).unwrap();
    p
}

#[test]
fn refusals_without_a_remote_read_in_spanish() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let sysroot = t.join("sysroot");
    let s = |p: &Path| p.to_str().unwrap().to_owned();

    // A remote config without a key.
    let conf = remote_conf(t, "[remote \"mxos\"]\nurl=http://127.0.0.1:9\n");
    let (code, _, err) = update_run(
        &sysroot,
        &[
            "init",
            "--remote-conf",
            &s(&conf),
            "--ref",
            "mxos/10/x86_64/demo",
        ],
        ES,
    );
    assert_eq!(
        (code, err),
        (
            1,
            format!(
                "error: {}: el remoto `mxos` no tiene `verification-ed25519-key=`; MxOS solo instala commits firmados\n",
                conf.display()
            )
        )
    );
    let conf = remote_conf(t, "url=http://127.0.0.1:9\n");
    let (_, _, err) = update_run(
        &sysroot,
        &["init", "--remote-conf", &s(&conf), "--ref", "x"],
        ES,
    );
    assert_eq!(
        err,
        format!(
            "error: {}:1: `url` aparece antes de cualquier grupo `[remote \"NOMBRE\"]`\n",
            conf.display()
        )
    );

    // No sysroot yet.
    for cmd in ["status", "check", "upgrade", "rollback", "health-check"] {
        let (code, out, err) = update_run(&sysroot, &[cmd], ES);
        assert_eq!(
            (code, out.as_str(), err),
            (
                1,
                "",
                format!(
                    "error: {} no es un sysroot de OSTree (no tiene ostree/repo); prepárelo con `mxos-update init`\n",
                    sysroot.display()
                )
            ),
            "{cmd}"
        );
    }

    // A machine set up to follow a remote that is not there.
    compose(&["keygen", &s(&t.join("k"))]);
    let key = fs::read_to_string(t.join("k.pub")).unwrap();
    let conf = remote_conf(
        t,
        &format!(
            "[remote \"mxos\"]\nurl=http://127.0.0.1:9\nverification-ed25519-key={}\n",
            key.trim()
        ),
    );
    let (code, out, _) = update_run(
        &sysroot,
        &[
            "init",
            "--remote-conf",
            &s(&conf),
            "--ref",
            "mxos/10/x86_64/demo",
        ],
        ES,
    );
    assert_eq!(code, 0);
    assert_eq!(out, "Listo: este equipo seguirá mxos:mxos/10/x86_64/demo. Ejecute `mxos-update upgrade` para instalar la primera versión.\n");
    let (code, out, _) = update_run(&sysroot, &["status", "--json"], ES);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            code,
            json["schema"].as_str(),
            json["following"].as_str(),
            json["agent"]["state"].as_str()
        ),
        (
            0,
            Some("mxos-update-status/1"),
            Some("mxos:mxos/10/x86_64/demo"),
            Some("idle")
        )
    );
    let (_, out, _) = update_run(&sysroot, &["status"], ES);
    assert_eq!(
        out,
        "No hay ninguna versión instalada todavía.\n  → mxos:mxos/10/x86_64/demo\n"
    );
    let (code, _, err) = update_run(&sysroot, &["check"], ES);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: al revisar si el remoto tiene una versión nueva\n  causa: "),
        "{err}"
    );
    let (code, _, err) = update_run(&sysroot, &["apply"], ES);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: no hay nada descargado que instalar; ejecute primero `mxos-update download`\n"
        )
    );
    let (code, _, err) = update_run(&sysroot, &["rollback"], ES);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: no hay una versión anterior a la cual regresar (este equipo tiene 0)\n"
        )
    );
    let (code, out, _) = update_run(&sysroot, &["health-check", "--json"], ES);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (code, json["outcome"].as_str(), json["message"].as_str()),
        (
            0,
            Some("nothing-to-check"),
            Some("No hay ninguna versión nueva en prueba.")
        )
    );

    // The admin's configuration fragment with a typo, and a wrong value.
    let etc = sysroot.join("etc/mxos/update.d");
    fs::create_dir_all(&etc).unwrap();
    fs::write(etc.join("10-escuela.toml"), "[updates]\nrebot = \"now\"\n").unwrap();
    let (code, _, err) = update_run(&sysroot, &["check"], ES);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: /etc/mxos/update.d/10-escuela.toml:2:1: clave desconocida `rebot` en [updates]; ¿quiso decir `reboot`?\n"
        )
    );
    fs::write(
        etc.join("10-escuela.toml"),
        "[health]\nmax_boot_attempts = 12\n",
    )
    .unwrap();
    let (_, _, err) = update_run(&sysroot, &["upgrade"], ES);
    assert_eq!(
        err,
        "error: /etc/mxos/update.d/10-escuela.toml:2:21: [health] max_boot_attempts = 12 está fuera de rango; se acepta: de 1 a 9\n"
    );
    fs::write(etc.join("10-escuela.toml"), "[updates]\nenabled = \"sí\"\n").unwrap();
    let (_, _, err) = update_run(&sysroot, &["check"], ES);
    assert_eq!(
        err,
        "error: /etc/mxos/update.d/10-escuela.toml:2:11: [updates] enabled: se esperaba un valor booleano y se encontró una cadena; se acepta: true, false\n"
    );
    fs::remove_file(etc.join("10-escuela.toml")).unwrap();

    // Command lines that do not parse: exit status 2, in Spanish too.
    let (code, _, err) = update_run(&sysroot, &["run", "--reboot", "luego"], ES);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: --reboot: valor desconocido `luego`; se acepta: never, window, now\n"
        )
    );
    let (code, _, err) = update_run(&sysroot, &["revisar"], ES);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: orden desconocida 'revisar'\nPara más información, ejecute `mxos-update --help`.\n"
        )
    );
    let (code, _, err) = update_run(&sysroot, &["chek"], &[]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: unknown command 'chek'\ndid you mean 'check'?\nFor more information, run `mxos-update --help`.\n"
        )
    );
    let (code, out, _) = update_run(&sysroot, &["--help"], ES);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("Actualizaciones atómicas y verificadas de MxOS\n\nUso: mxos-update")
            && out.contains("Órdenes:\n  init ")
            && out.contains("77 cuando `check`"),
        "{out}"
    );
}

/// libostree and curl say why a download failed only in English: the agent says what it
/// means in Spanish, keeps their wording beside it (what a technician searches for), and
/// names its own steps from the catalogue; English gets the same explanation.
#[test]
fn network_failures_read_in_spanish_with_the_original_beside() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let sysroot = t.join("sysroot");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let key = mxos_sign::SecretKey::generate().public();
    // Port 1 on loopback: nothing listens there.
    let conf = remote_conf(
        t,
        &format!("[remote \"mxos\"]\nurl=http://127.0.0.1:1/mxos\ngpg-verify=false\nsign-verify=ed25519\nverification-ed25519-key={key}\n"),
    );
    update(
        &sysroot,
        &[
            "init",
            "--remote-conf",
            &s(&conf),
            "--ref",
            "mxos/10/x86_64/demo",
        ],
    );
    let original =
        "While fetching http://127.0.0.1:1/mxos/summary.sig: [7] Couldn't connect to server";
    let (code, out, err) = update_run(&sysroot, &["check"], ES);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        format!(
            "error: al revisar si el remoto tiene una versión nueva\n  \
             causa: al descargar el índice firmado (summary) del remoto `mxos`\n  \
             causa: nadie responde en la dirección del servidor: revise que el servidor de \
             actualizaciones esté encendido y que la dirección sea correcta ({original})\n"
        )
    );
    let (code, _, err) = update_run(&sysroot, &["check"], &[("LANG", "C.UTF-8")]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "error: checking the remote for a new version\n  \
             caused by: fetching the summary of remote `mxos`\n  caused by: nothing answers at \
             the server's address: check that the update server is on and that the address is \
             right ({original})\n"
        )
    );
}
