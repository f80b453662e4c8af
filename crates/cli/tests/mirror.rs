//! A school mirror of a channel, served by a real nginx from the upstream's nginx (with a
//! slow link, `limit_rate`): what it copies, that a rerun fetches only the summary, that a
//! mirror killed with SIGKILL at random points keeps serving a whole state (the old one or
//! the new one) to an independent `ostree` client, that a device updates from it through
//! the copied static delta, and that devices refuse a commit of another collection.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const REF: &str = "mxos/10/x86_64/escuelas";
const CHANNEL: &str = "escuelas/estable";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// `n` files of pseudo-random (incompressible) content, distinct per `seed`.
fn noise(seed: &str, n: usize, size: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let mut bytes = vec![0u8; size];
            blake3::Hasher::new()
                .update(format!("{seed}-{i}").as_bytes())
                .finalize_xof()
                .fill(&mut bytes);
            (format!("usr/share/mxos-{seed}/f{i}"), bytes)
        })
        .collect()
}

fn release(
    build: &Path,
    key: &str,
    version: &str,
    time: &str,
    files: &[(String, Vec<u8>)],
) -> String {
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    let c = tiny_os_commit_with(build, REF, version, time, &files);
    compose(&["sign", "--repo", &s(build), REF, "--key", key]);
    c
}

/// `mxos-compose mirror` for the test's channel.
fn mirror_args(from: &str, to: &Path) -> Vec<String> {
    [
        "mirror",
        "--from",
        from,
        "--to",
        &s(to),
        "--channel",
        CHANNEL,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn mirror_json(from: &str, to: &Path) -> serde_json::Value {
    let mut args = mirror_args(from, to);
    args.push("--json".to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    serde_json::from_str(&compose(&args)).unwrap()
}

/// A mirror run in the background, to be killed.
fn spawn_mirror(from: &str, to: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_mxos-compose"))
        .args(mirror_args(from, to))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `cp -a`: the copy keeps the symlinks and the hard links between generations.
fn cp_a(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success(), "cp -a {} {}", from.display(), to.display());
}

/// The summary an independent client reads from `url`, and the commit it then pulls for
/// REF: the pull must succeed against whatever state the mirror serves.
fn client_sees(url: &str, scratch: &Path) -> Vec<u8> {
    let client = scratch.join("client");
    let _ = std::fs::remove_dir_all(&client);
    ostree(&["--repo", &s(&client), "init", "--mode=archive"]);
    ostree(&[
        "--repo",
        &s(&client),
        "remote",
        "add",
        "--no-gpg-verify",
        "m",
        url,
    ]);
    ostree(&[
        "--repo",
        &s(&client),
        "pull",
        "m",
        REF,
        &format!("mxos/fleet/{CHANNEL}"),
    ]);
    let summary = ostree(&["--repo", &s(&client), "remote", "summary", "--raw", "m"]);
    summary.into_bytes()
}

#[test]
fn a_school_mirror_survives_kills_and_serves_devices() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, public, mirror) = (t.join("build"), t.join("public"), t.join("espejo"));
    std::fs::create_dir_all(&public).unwrap();
    compose(&["keygen", &s(&t.join("mxos"))]);
    let key = s(&t.join("mxos.secret"));
    // About 6 MB per release, 4 MB in the v1 → v2 delta, at 2 MB/s per connection: a run
    // takes long enough to be killed in each of its steps.
    let upstream = mxos_tests::Nginx::serve_at_rate(&public, Some(2_000_000)).unwrap();
    let v1_files = noise("v1", 60, 100_000);
    let v1 = release(&build, &key, "1", "2026-01-01T00:00:00Z", &v1_files);
    publish(&build, &public, Path::new(&key), &upstream.url(), &[]);
    let fleet = |args: &[&str]| {
        let mut all = vec!["fleet"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--public", public.to_str().unwrap(), "--sign-key", &key]);
        compose(&all)
    };
    fleet(&["promote", CHANNEL, "--to", REF, "--ref", REF]);

    let first = mirror_json(&upstream.url(), &mirror);
    assert_eq!(first["changed"], true, "{first}");
    assert_eq!(first["served"], s(&mirror.join("current")));
    let refs: Vec<&str> = first["refs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        vec![
            REF,
            format!("mxos/fleet/{CHANNEL}").as_str(),
            "ostree-metadata"
        ]
    );
    assert!(
        first["bytes_fetched"].as_u64().unwrap() > 6_000_000,
        "{first}"
    );
    // Byte for byte the upstream's signed summary: devices verify it with the same key.
    for f in ["summary", "summary.sig", "mxos.ed25519.pub"] {
        assert_eq!(
            std::fs::read(mirror.join("current").join(f)).unwrap(),
            std::fs::read(public.join(f)).unwrap(),
            "{f}"
        );
    }
    let served = mxos_tests::Nginx::serve(&mirror).unwrap();
    let mirror_url = format!("{}/current", served.url());

    // A rerun with nothing new asks upstream for its summary and nothing else.
    let log_before = upstream.access_log().lines().count();
    let again = mirror_json(&upstream.url(), &mirror);
    assert_eq!(
        (again["changed"].as_bool(), again["bytes_fetched"].as_u64()),
        (Some(false), Some(0)),
        "{again}"
    );
    let rerun: Vec<String> = upstream
        .access_log()
        .lines()
        .skip(log_before)
        .map(str::to_owned)
        .collect();
    assert!(
        !rerun.is_empty() && rerun.iter().all(|l| l.contains("GET /summary")),
        "{rerun:#?}"
    );

    // A machine follows the mirror: the published remote config with the mirror's URL.
    let conf = std::fs::read_to_string(public.join("mxos.conf"))
        .unwrap()
        .replace(&upstream.url(), &mirror_url);
    std::fs::write(t.join("espejo.conf"), &conf).unwrap();
    std::fs::copy(public.join("mxos.ed25519.pub"), t.join("mxos.ed25519.pub")).unwrap();
    let pc = t.join("pc");
    update(
        &pc,
        &[
            "init",
            "--remote-conf",
            &s(&t.join("espejo.conf")),
            "--ref",
            REF,
        ],
    );
    update(&pc, &["upgrade"]);
    assert_eq!(deployments(&pc), vec![v1.clone()]);

    // v2 upstream; the mirror is killed at random points while copying it.
    let mut v2_files = v1_files.clone();
    v2_files.truncate(20);
    v2_files.extend(noise("v2", 40, 100_000));
    let v2 = release(&build, &key, "2", "2026-02-01T00:00:00Z", &v2_files);
    publish(&build, &public, Path::new(&key), &upstream.url(), &[]);
    fleet(&["promote", CHANNEL, "--to", REF, "--ref", REF]);
    let old = std::fs::read(mirror.join("current/summary")).unwrap();
    let new = std::fs::read(public.join("summary")).unwrap();
    let old_seen = client_sees(&mirror_url, t);
    // How long a whole old → new run takes, measured on a copy, so that the kills below
    // spread over all of one: the pulls, the deltas, the summary, the switch, and after.
    let snapshot = t.join("mirror-before");
    cp_a(&mirror, &snapshot);
    let probe = t.join("mirror-probe");
    cp_a(&mirror, &probe);
    let started = Instant::now();
    let whole = mirror_json(&upstream.url(), &probe);
    assert_eq!(whole["changed"], true);
    let whole_bytes = whole["bytes_fetched"].as_u64().unwrap();
    let run_ms = started.elapsed().as_millis() as u64;
    std::fs::remove_dir_all(&probe).unwrap();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("kill delays seeded with {seed}, a whole run takes {run_ms} ms");
    let (mut saw_old, mut saw_new) = (0, 0);
    const ROUNDS: u64 = 24;
    for round in 0..ROUNDS {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Round i lands somewhere in the i-th slice of 0..1.25 × a run.
        let slice = run_ms * 5 / 4 / ROUNDS;
        let delay = Duration::from_millis(round * slice + (seed >> 33) % slice.max(1));
        let mut child = spawn_mirror(&upstream.url(), &mirror);
        let start = Instant::now();
        while start.elapsed() < delay && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        child.wait().unwrap();
        let on_disk = std::fs::read(mirror.join("current/summary")).unwrap();
        assert!(
            on_disk == old || on_disk == new,
            "round {round}: a summary that is neither state"
        );
        let seen = client_sees(&mirror_url, t);
        if on_disk == old {
            assert_eq!(seen, old_seen, "round {round}");
            saw_old += 1;
        } else {
            saw_new += 1;
            // Back to the old state, so the next kill again finds a run with work to do.
            std::fs::remove_dir_all(&mirror).unwrap();
            cp_a(&snapshot, &mirror);
        }
    }
    eprintln!("after 24 kills: {saw_old} rounds served the old state, {saw_new} the new one");

    // A run cut off in the middle of the delta leaves the objects and the part of the delta
    // it fetched for the next one, which asks only for the rest.
    std::fs::remove_dir_all(&mirror).unwrap();
    cp_a(&snapshot, &mirror);
    let mut child = spawn_mirror(&upstream.url(), &mirror);
    let partial_len = || -> u64 {
        std::fs::read_dir(mirror.join(".generations"))
            .unwrap()
            .filter_map(|g| std::fs::read_dir(g.unwrap().path().join("tmp/mxos-partial")).ok())
            .flatten()
            .map(|f| f.unwrap().metadata().unwrap().len())
            .max()
            .unwrap_or(0)
    };
    let started = Instant::now();
    while partial_len() < 1_000_000 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before 1 MB of the delta"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no delta fetched in 60 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    child.wait().unwrap();
    let kept = partial_len();
    let last = mirror_json(&upstream.url(), &mirror);
    let resumed_bytes = last["bytes_fetched"].as_u64().unwrap();
    eprintln!(
        "a whole run fetched {whole_bytes} bytes; one killed with {kept} bytes of the delta kept, then resumed, {resumed_bytes}"
    );
    // The objects are all there (the delta comes after them) and so is the piece of the delta.
    assert!(
        resumed_bytes + kept <= whole_bytes - 1_000_000,
        "{resumed_bytes} + {kept} > {whole_bytes} - 1 MB"
    );
    assert_eq!(std::fs::read(mirror.join("current/summary")).unwrap(), new);
    let generations = std::fs::read_dir(mirror.join(".generations"))
        .unwrap()
        .count();
    assert!(generations <= 2, "{generations} generations kept");
    assert_eq!(last["changed"], true, "{last}");
    let deltas: Vec<&str> = last["deltas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(deltas, vec![format!("{v1}-{v2}").as_str()], "{last}");
    assert!(mirror
        .join("current")
        .join(
            mxos_repo::StaticDelta {
                from: Some(v1.clone()),
                to: v2.clone()
            }
            .relative_dir()
            .unwrap()
        )
        .join("superblock")
        .is_file());

    // The machine updates from the mirror through the static delta.
    let log_before = served.access_log().lines().count();
    update(&pc, &["upgrade"]);
    assert_eq!(deployments(&pc), vec![v2.clone(), v1.clone()]);
    let fetched: Vec<String> = served
        .access_log()
        .lines()
        .skip(log_before)
        .map(str::to_owned)
        .collect();
    assert!(
        fetched.iter().any(|l| l.contains("/superblock ")),
        "{fetched:#?}"
    );

    // A repo of another collection, signed by the same key, is refused by the machine.
    let (other_build, other_public) = (t.join("other-build"), t.join("other-public"));
    ostree(&[
        "--repo",
        &s(&other_build),
        "init",
        "--mode=archive",
        "--collection-id=org.otra.Os",
    ]);
    let files: Vec<(&str, &[u8])> = vec![("usr/share/otra", b"x")];
    tiny_os_commit_with(&other_build, REF, "3", "2026-03-01T00:00:00Z", &files);
    compose(&["sign", "--repo", &s(&other_build), REF, "--key", &key]);
    let err = compose_fails(&[
        "publish",
        "--repo",
        &s(&other_build),
        "--to",
        &s(&other_public),
        "--sign-key",
        &key,
    ]);
    assert!(
        err.contains(&format!("error: ref `{REF}` ("))
            && err.contains("is bound to collection `org.otra.Os`, not `mx.mxos.Os`"),
        "{err}"
    );
    publish(
        &other_build,
        &other_public,
        Path::new(&key),
        "http://x",
        &["--collection-id", "org.otra.Os"],
    );
    let other = mxos_tests::Nginx::serve(&other_public).unwrap();
    let conf = conf.replace(&mirror_url, &other.url());
    std::fs::write(t.join("otra.conf"), conf).unwrap();
    let remotes = pc.join("ostree/repo/config");
    let cfg = std::fs::read_to_string(&remotes)
        .unwrap()
        .replace(&mirror_url, &other.url());
    std::fs::write(&remotes, cfg).unwrap();
    // libostree revalidates its cached summary with the server's ETag (mtime and size in
    // nginx); two loopback servers whose summaries were written in the same second look the
    // same, so the cache of the old server goes.
    let _ = std::fs::remove_dir_all(pc.join("ostree/repo/tmp/cache/summaries"));
    let err = update_fails(&pc, &["upgrade"]);
    assert!(
        err.contains("the server handed over a commit of another collection or branch (another distribution, or a mirror mixing repositories): this machine does not install it and keeps what it runs; tell your administrator (")
            && err.contains("Commit has collection ID ‘org.otra.Os’ in collection binding metadata, while the remote it came from has collection ID ‘mx.mxos.Os’"),
        "{err}"
    );
    assert_eq!(deployments(&pc), vec![v2, v1]);
}
