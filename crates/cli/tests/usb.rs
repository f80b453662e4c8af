//! Updates carried on a USB drive: `mxos-compose usb` writes a channel onto a drive,
//! which then goes through a real FAT32 filesystem (mtools; the CI kernel has no vfat to
//! mount) to show it needs nothing FAT lacks, and machines take their update from it in the
//! order `[sources]` gives: with the main server switched off, from the drive; with a
//! corrupted copy on the drive, from the main server after the drive's object is refused;
//! with an expired manifest on the drive, not at all, saying to refresh the drive. Status
//! says which source gave what.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

const REF: &str = "mxos/10/x86_64/escuelas";
const CHANNEL: &str = "escuelas/estable";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

fn run(cmd: &str, args: &[&str]) {
    let st = Command::new(cmd).args(args).status().unwrap();
    assert!(st.success(), "{cmd} {args:?}");
}

/// Copies the drive written at `written` through a 64 MiB FAT32 image into `to`: what
/// comes out is what a real drive would hold (no symlinks, no hard links, FAT's names).
fn through_fat(written: &Path, image: &Path, to: &Path) {
    run("truncate", &["-s", "64M", &s(image)]);
    run("mkfs.vfat", &["-F", "32", "-n", "ESCUELA", &s(image)]);
    run(
        "mcopy",
        &[
            "-s",
            "-Q",
            "-i",
            &s(image),
            &s(&written.join("mxos")),
            "::/",
        ],
    );
    std::fs::create_dir_all(to).unwrap();
    run(
        "mcopy",
        &["-s", "-Q", "-n", "-i", &s(image), "::/mxos", &s(to)],
    );
}

fn usb_json(from: &str, to: &Path) -> serde_json::Value {
    let out = compose(&[
        "usb",
        "--from",
        from,
        "--to",
        &s(to),
        "--channel",
        CHANNEL,
        "--json",
    ]);
    serde_json::from_str(&out).unwrap()
}

fn status(pc: &Path) -> serde_json::Value {
    serde_json::from_str(&update(pc, &["status", "--json"])).unwrap()
}

/// A machine at `v1` following the channel, with `sources` as its `[sources]` table.
fn machine(t: &Path, name: &str, conf: &Path, sources: &str) -> std::path::PathBuf {
    let pc = t.join(name);
    update(&pc, &["init", "--remote-conf", &s(conf), "--ref", REF]);
    update(&pc, &["upgrade"]);
    let etc = default_deployment(&pc).1.join("etc");
    std::fs::write(etc.join("machine-id"), format!("{:0>32}\n", name.len())).unwrap();
    std::fs::create_dir_all(etc.join("mxos/update.d")).unwrap();
    std::fs::write(
        etc.join("mxos/update.d/10-escuela.toml"),
        format!(
            "[updates]\nchannel = \"{CHANNEL}\"\nreboot = \"never\"\n\
             [sources]\n{sources}\n"
        ),
    )
    .unwrap();
    pc
}

#[test]
fn machines_update_from_a_drive_and_fall_back_from_a_bad_one() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, public) = (t.join("build"), t.join("public"));
    std::fs::create_dir_all(&public).unwrap();
    compose(&["keygen", &s(&t.join("mxos"))]);
    let key = s(&t.join("mxos.secret"));
    let upstream = mxos_tests::Nginx::serve(&public).unwrap();
    let files = |tag: &str| -> Vec<(String, Vec<u8>)> {
        (0..20)
            .map(|i| {
                let mut b = vec![0u8; 50_000];
                blake3::Hasher::new()
                    .update(format!("{tag}-{i}").as_bytes())
                    .finalize_xof()
                    .fill(&mut b);
                (format!("usr/share/mxos-{tag}/f{i}"), b)
            })
            .collect()
    };
    let release = |version: &str, time: &str, tag: &str| {
        let f = files(tag);
        let f: Vec<(&str, &[u8])> = f.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
        let c = tiny_os_commit_with(&build, REF, version, time, &f);
        compose(&["sign", "--repo", &s(&build), REF, "--key", &key]);
        publish(&build, &public, Path::new(&key), &upstream.url(), &[]);
        c
    };
    let fleet = |args: &[&str]| fleet(&public, &key, args);
    let v1 = release("1", "2026-01-01T00:00:00Z", "v1");
    fleet(&["promote", CHANNEL, "--to", REF, "--ref", REF]);
    let conf = public.join("mxos.conf");
    let media = t.join("media");
    let drives = |dir: &Path| {
        format!(
            "order = [\"usb\", \"main\"]\nusb_paths = [\"{}/*\"]",
            dir.display()
        )
    };
    let pc = machine(t, "pc", &conf, &drives(&media));
    let rota = t.join("rota");
    let pc2 = machine(t, "pc-02", &conf, &drives(&rota));
    let pc3 = machine(t, "pc-003", &conf, &drives(Path::new("/nowhere")));
    // The lab's server: the same copy, over HTTP.
    let written = t.join("escrita");
    std::fs::create_dir_all(written.join("mxos")).unwrap();
    let lab = mxos_tests::Nginx::serve(&written.join("mxos")).unwrap();
    let pc4 = machine(
        t,
        "pc-0004",
        &conf,
        &format!("order = [\"lan\", \"main\"]\nlan = [\"{}\"]", lab.url()),
    );
    let v2 = release("2", "2026-02-01T00:00:00Z", "v2");
    fleet(&["promote", CHANNEL, "--to", REF, "--ref", REF]);

    // The drive is written from the main server; it holds only files and directories.
    let first = usb_json(&upstream.url(), &written);
    assert_eq!(first["changed"], true, "{first}");
    assert_eq!(first["served"], s(&written.join("mxos")));
    let odd: Vec<_> = walk_all(&written)
        .into_iter()
        .filter(|p| {
            let m = std::fs::symlink_metadata(p).unwrap();
            !(m.is_dir() || m.is_file() && std::os::unix::fs::MetadataExt::nlink(&m) == 1)
        })
        .collect();
    assert!(odd.is_empty(), "FAT has no symlinks or hard links: {odd:?}");
    let drive = media.join("ESCUELA");
    through_fat(&written, &t.join("escuela.img"), &drive);
    for f in ["summary", "summary.sig", "mxos.ed25519.pub"] {
        assert_eq!(
            std::fs::read(drive.join("mxos").join(f)).unwrap(),
            std::fs::read(public.join(f)).unwrap(),
            "{f}"
        );
    }
    let again = usb_json(&upstream.url(), &written);
    assert_eq!(
        (again["changed"].as_bool(), again["bytes_fetched"].as_u64()),
        (Some(false), Some(0)),
        "{again}"
    );

    // A copy of the drive with one object cut short: the machine refuses what it read from
    // it and takes the update from the main server instead.
    let bad = rota.join("ROTA");
    std::fs::create_dir_all(&bad).unwrap();
    run("cp", &["-r", &s(&drive.join("mxos")), &s(&bad)]);
    let biggest = walk_all(&bad.join("mxos/objects"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "filez"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let len = std::fs::metadata(&biggest).unwrap().len();
    std::fs::File::options()
        .write(true)
        .open(&biggest)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let out = update(&pc2, &["run"]);
    assert!(
        out.starts_with("Update 2 installed; it applies the next time the machine restarts.\n"),
        "{out}"
    );
    assert_eq!(deployments(&pc2), vec![v2.clone(), v1.clone()]);
    let st = status(&pc2);
    let bad_label = format!("usb:{}", bad.join("mxos").display());
    assert_eq!(st["last_source"], "main", "{st}");
    let why = st["sources"][&bad_label]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        why.contains(&format!("from file://{}", bad.join("mxos").display()))
            && why.contains("Writing content object"),
        "{st}"
    );
    assert!(
        st["sources"]["main"]["bytes"].as_u64().unwrap() > 500_000,
        "{st}"
    );

    // The main server goes away: the machine updates from the drive alone.
    drop(upstream);
    update(&pc, &["run"]);
    let good_label = format!("usb:{}", drive.join("mxos").display());
    assert_eq!(deployments(&pc), vec![v2.clone(), v1.clone()]);
    let st = status(&pc);
    assert_eq!(st["last_source"], good_label.as_str(), "{st}");
    let from_drive = st["sources"][&good_label]["bytes"].as_u64().unwrap();
    assert!(from_drive > 500_000, "{st}");
    assert!(st["sources"]["main"]["last_error"].is_string(), "{st}");
    let text = update_env(&pc, &["status"], &[("LANG", "es_MX.UTF-8")]);
    assert!(
        text.contains(&format!(
            "● {good_label}: {from_drive} bytes, usada por última vez: "
        )),
        "{text}"
    );
    // And another from the lab's server.
    update(&pc4, &["run"]);
    assert_eq!(deployments(&pc4), vec![v2.clone(), v1.clone()]);
    let st = status(&pc4);
    let lab_label = format!("lan:{}", lab.url());
    assert_eq!(st["last_source"], lab_label.as_str(), "{st}");
    let from_lab = st["sources"][&lab_label]["bytes"].as_u64().unwrap();
    assert!(from_lab > 500_000, "{st}");
    assert!(
        lab.access_log().contains("GET /summary"),
        "{}",
        lab.access_log()
    );
    eprintln!("bytes per source: pc4 lab {from_lab}");
    eprintln!(
        "bytes per source: pc2 main {}, pc drive {from_drive}",
        status(&pc2)["sources"]["main"]["bytes"]
    );

    // A drive written today, read three days later when its manifest (valid one day) has
    // expired, is refused with what to do about it; the machine keeps what it runs.
    fleet(&[
        "promote",
        CHANNEL,
        "--to",
        REF,
        "--ref",
        REF,
        "--valid-days",
        "1",
    ]);
    let old = t.join("vieja");
    std::fs::create_dir_all(&old).unwrap();
    usb_json(&format!("file://{}", public.display()), &old);
    let check_later = |days: &str| {
        let out = Command::new("faketime")
            .args(["-f", days, env!("CARGO_BIN_EXE_mxos-update")])
            .args(["--sysroot", &s(&pc3), "check", "--from"])
            .arg(old.join("mxos"))
            .env("LANG", "es_MX.UTF-8")
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, said, err) = check_later("+3d");
    assert_eq!(code, Some(77), "{said}{err}");
    assert!(
        said.contains(&format!(
            "la memoria de actualización en {} trae un manifiesto de la flota que venció el ",
            old.join("mxos").display()
        )) && said.contains("actualice la memoria con `mxos-compose usb`"),
        "{said}"
    );
    // Forty days later its signed summary has expired too, which is checked first.
    let (code, said, err) = check_later("+40d");
    assert_eq!(code, Some(77), "{said}{err}");
    assert!(
        said.starts_with(&format!(
            "la memoria de actualización en {} es demasiado vieja: su resumen firmado venció; actualice la memoria con `mxos-compose usb`",
            old.join("mxos").display()
        )),
        "{said}"
    );
    assert_eq!(deployments(&pc3), vec![v1]);
}

/// Every path under `dir`, directories included.
fn walk_all(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        out.push(p.clone());
        if std::fs::symlink_metadata(&p).unwrap().is_dir() {
            out.extend(walk_all(&p));
        }
    }
    out
}
