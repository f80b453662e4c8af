//! A long download on a slow link: without a terminal, `mxos-update upgrade` leaves one line
//! when the download ends, in the reader's language, with the time, the objects fetched of
//! those requested and the megabytes, on stderr, so stdout says only the result.

mod common;

use std::path::Path;

use common::*;

const REF: &str = "mxos/10/x86_64/demo";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

#[test]
fn a_slow_download_leaves_one_line_with_its_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, public, sysroot) = (t.join("build"), t.join("public"), t.join("sysroot"));
    compose(&["keygen", &s(&t.join("mxos"))]);
    let key = t.join("mxos.secret");
    // 3 MB that zlib cannot shrink: at 1 MB/s the download takes about three seconds.
    let mut big = vec![0u8; 3_000_000];
    blake3::Hasher::new()
        .update(b"mxos progress test")
        .finalize_xof()
        .fill(&mut big);
    tiny_os_commit_with(
        &build,
        REF,
        "10.1",
        "2026-11-01T00:00:00Z",
        &[("usr/share/mxos/big.bin", &big)],
    );
    compose(&["sign", "--repo", &s(&build), REF, "--key", &s(&key)]);
    std::fs::create_dir_all(&public).unwrap();
    let nginx = mxos_tests::Nginx::serve_at_rate(&public, Some(1_000_000)).unwrap();
    publish(&build, &public, &key, &nginx.url(), &[]);
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
    let (code, out, err) = update_run(&sysroot, &["upgrade"], &[("LANG", "es_MX.UTF-8")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Actualización 10.1 ("), "{out}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("descargando la actualización: "))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    // "descargando la actualización: 3.2 s, 9/9, 3.0 MB"
    let figures: Vec<&str> = lines[0]["descargando la actualización: ".len()..]
        .split(", ")
        .collect();
    let [secs, count, megabytes] = figures[..] else {
        panic!("{}", lines[0]);
    };
    let secs: f64 = secs.strip_suffix(" s").unwrap().parse().unwrap();
    assert!(secs >= 2.0, "{}", lines[0]);
    let (done, total) = count.split_once('/').unwrap();
    assert_eq!(done, total, "{}", lines[0]);
    assert!(total.parse::<u32>().unwrap() >= 5, "{}", lines[0]);
    let mb: f64 = megabytes.strip_suffix(" MB").unwrap().parse().unwrap();
    assert!((3.0..4.0).contains(&mb), "{}", lines[0]);
    drop(nginx);
}
