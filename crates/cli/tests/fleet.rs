//! A fleet of 20 test sysroots with different machine-ids follows a channel served by
//! nginx: a 25 % rollout moves the machines whose bucket is under 25 %, `fleet rollback`
//! brings every machine to the old content as a new deployment, and bad manifests are
//! refused with their reason.

mod common;

use std::fs;
use std::path::Path;

use common::*;

const REF: &str = "mxos/10/x86_64/demo";
const CHANNEL: &str = "mxos/10/x86_64/demo/estable";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

fn order(sysroot: &Path) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(&update(sysroot, &["status", "--json"])).unwrap();
    json["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["checksum"].as_str().unwrap().to_owned())
        .collect()
}

fn content_checksum(repo: &Path, commit: &str) -> String {
    ostree(&["--repo", &s(repo), "show", commit])
        .lines()
        .find_map(|l| {
            l.strip_prefix("ContentChecksum:")
                .map(|c| c.trim().to_owned())
        })
        .unwrap()
}

#[test]
fn twenty_machines_follow_a_channel_through_rollout_and_fleet_rollback() {
    let gen1 = mxos_tests::shared_demo_repo(1).unwrap();
    let gen2 = mxos_tests::shared_demo_repo(2).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, public) = (t.join("build"), t.join("public"));
    fs::create_dir_all(&public).unwrap();
    compose(&["keygen", &s(&t.join("mxos"))]);
    let key = s(&t.join("mxos.secret"));
    let nginx = mxos_tests::Nginx::serve(&public).unwrap();
    let url = nginx.url();
    let v1 = committed(&compose_signed(
        &demo_treefile(&t.join("v1"), &gen1, ""),
        &build,
        Path::new(&key),
    ));
    publish(&build, &public, Path::new(&key), &url, &[]);
    let fleet = |args: &[&str]| {
        let mut all = vec!["fleet"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--public", public.to_str().unwrap(), "--sign-key", &key]);
        compose(&all)
    };
    let out = fleet(&[
        "promote",
        CHANNEL,
        "--to",
        REF,
        "--ref",
        REF,
        "--reboot-window",
        "mon-fri 18:00+240",
    ]);
    assert!(
        out.contains(&format!("channel {CHANNEL}\n  serial 1,"))
            && out.contains("  rollout: all machines\n"),
        "{out}"
    );
    assert!(
        out.contains("  reboot windows (America/Mexico_City): mon,tue,wed,thu,fri 18:00+240\n"),
        "{out}"
    );

    // Twenty machines, each with its own machine-id, following the channel.
    let mut machines = Vec::new();
    for i in 0..20u32 {
        let sysroot = t.join(format!("pc-{i:02}"));
        update(
            &sysroot,
            &[
                "init",
                "--remote-conf",
                &s(&public.join("mxos.conf")),
                "--ref",
                REF,
            ],
        );
        update(&sysroot, &["upgrade"]);
        let (c, dir) = default_deployment(&sysroot);
        assert_eq!(c, v1);
        let machine_id = blake3::hash(format!("aula-{i}").as_bytes()).to_hex()[..32].to_owned();
        fs::write(dir.join("etc/machine-id"), format!("{machine_id}\n")).unwrap();
        fs::create_dir_all(dir.join("etc/mxos/update.d")).unwrap();
        fs::write(
            dir.join("etc/mxos/update.d/10-escuela.toml"),
            format!("[updates]\nchannel = \"{CHANNEL}\"\nreboot = \"never\"\n"),
        )
        .unwrap();
        machines.push((sysroot, machine_id));
    }
    for (m, _) in &machines {
        let out = update(m, &["run"]);
        assert_eq!(out, "No update pending.\n");
        assert_eq!(order(m), vec![v1.clone()]);
    }

    // v2 to a quarter of the fleet.
    let v2 = committed(&compose_signed(
        &demo_treefile(&t.join("v2"), &gen2, ""),
        &build,
        Path::new(&key),
    ));
    publish(&build, &public, Path::new(&key), &url, &[]);
    let out = fleet(&[
        "promote",
        CHANNEL,
        "--to",
        REF,
        "--rollout-percentage",
        "25",
        "--rollout-minutes",
        "525600",
    ]);
    assert!(
        out.contains("  serial 2,") && out.contains("  rollout: 25 % of machines now\n"),
        "{out}"
    );
    let mut moved = Vec::new();
    for (m, id) in &machines {
        let out = update_env(m, &["run"], &[("LANG", "es_MX.UTF-8")]);
        let bucket = mxos_fleet_bucket(id);
        if order(m)[0] == v2 {
            moved.push(m.clone());
            assert!(bucket < 25.1, "bucket {bucket} moved");
            assert_eq!(order(m), vec![v2.clone(), v1.clone()]);
        } else {
            assert!(bucket >= 25.0, "bucket {bucket} did not move: {out}");
            assert!(
                out.contains("La actualización se está liberando por etapas (25 % de los equipos)"),
                "{out}"
            );
        }
    }
    assert!(
        (2..=9).contains(&moved.len()),
        "about a quarter of 20 moved, got {}",
        moved.len()
    );

    // Pausing stops new updates and says so.
    let out = fleet(&["pause", CHANNEL]);
    assert!(out.contains("PAUSED"), "{out}");
    let (idle, _) = machines.iter().find(|(m, _)| !moved.contains(m)).unwrap();
    let out = check_no_update(idle, &[]);
    assert_eq!(
        out,
        format!("Channel {CHANNEL} is paused; no new updates are installed.\n")
    );
    assert_eq!(
        check_no_update(idle, &[("LANG", "es_MX.UTF-8")]),
        format!("El canal {CHANNEL} está en pausa; no se instalan actualizaciones nuevas.\n")
    );
    let (code, json, _) = update_run(idle, &["check", "--json"], &[]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (code, json["schema"].as_str(), json["outcome"].as_str()),
        (77, Some("mxos-update-check/1"), Some("blocked"))
    );
    fleet(&["resume", CHANNEL]);

    // Fleet rollback: v1's content as a new head, for everyone, no downgrade needed.
    let out = compose(&[
        "fleet",
        "rollback",
        CHANNEL,
        "--repo",
        &s(&build),
        "--public",
        &s(&public),
        "--sign-key",
        &key,
    ]);
    let rb = out.split_whitespace().nth(6).unwrap().to_owned();
    assert!(
        out.starts_with(&format!("re-issued the content of {v1} as {rb} on {REF}")),
        "{out}"
    );
    assert_eq!(
        content_checksum(&public, &rb),
        content_checksum(&public, &v1),
        "same content as v1"
    );
    for (m, _) in &machines {
        let out = update(m, &["run"]);
        let o = order(m);
        assert_eq!(
            o[0],
            rb,
            "every machine ends on the rollback commit: {out}\n{}",
            compose(&["fleet", "show", CHANNEL, "--public", &s(&public), "--json"])
        );
        if moved.contains(m) {
            assert_eq!(
                o,
                vec![rb.clone(), v2.clone()],
                "upgraded machines keep v2 as rollback"
            );
        }
    }

    // A replayed (older) manifest is refused; the machine keeps what it has.
    let fleet_ref = format!("mxos/fleet/{CHANNEL}");
    let older = ostree(&[
        "--repo",
        &s(&public),
        "rev-parse",
        &format!("{fleet_ref}^^"),
    ])
    .trim()
    .to_owned();
    ostree(&[
        "--repo",
        &s(&public),
        "refs",
        "--force",
        "--create",
        &fleet_ref,
        &older,
    ]);
    // The device refuses an unsigned summary outright (tests/summary_trust.rs); the manifest's
    // own replay check is the line behind it, for a server whose summary key signs whatever
    // lands in the repo: re-list the refs, expiring in an hour, and re-sign.
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    std::thread::sleep(std::time::Duration::from_millis(1100));
    mxos_repo::Repo::open(&public)
        .unwrap()
        .regenerate_summary_expiring(Some(expires))
        .unwrap();
    mxos_sign::sign_summary(
        &public,
        &mxos_sign::SecretKey::read(Path::new(&key)).unwrap(),
    )
    .unwrap();
    // The attacker's summary lands in the same second as ours; make HTTP caches see it.
    assert!(std::process::Command::new("touch")
        .args(["-d", "+10 seconds"])
        .arg(public.join("summary"))
        .arg(public.join("summary.sig"))
        .status()
        .unwrap()
        .success());
    let (m, _) = &machines[0];
    let out = check_no_update(m, &[]);
    assert_eq!(out, "the fleet manifest has serial 3, older than serial 5 already seen (an old manifest was replayed)\n");
    assert_eq!(
        check_no_update(m, &[("LANG", "es_MX.UTF-8")]),
        "el manifiesto de la flota tiene el número de serie 3, anterior al 5 ya visto (se reenvió un manifiesto viejo)\n"
    );
    assert_eq!(order(m)[0], rb);
    drop(nginx);
}

fn mxos_fleet_bucket(machine_id: &str) -> f64 {
    mxos_fleet::rollout_bucket(machine_id, CHANNEL)
}
