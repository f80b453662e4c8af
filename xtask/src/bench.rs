//! `cargo xtask bench`: our commit, compose and publish paths measured against the reference
//! tools, each ratio from the same run on the same input, written to docs/performance.md.
//!
//! Not part of `cargo xtask test`: it takes minutes, needs a quiet machine to mean anything,
//! and its numbers are reported, never asserted. Release binaries are used.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::{cargo, run, target_dir, workspace_root};

const REF: &str = "mxos/10/x86_64/demo";
/// Top-level directories of the host's /usr copied as the large tree (≥ 500 MB, ≥ 30k files
/// on a Debian 12 build machine).
const TREE_PARTS: &[&str] = &["share", "sbin", "libexec"];
/// Runs per tool and mode for the commit measurement; the median is reported.
const COMMIT_ROUNDS: usize = 3;
/// The compose input beside the demo packages: this host directory's binaries, packaged.
const BULK_SOURCE: &str = "/usr/lib/x86_64-linux-gnu";
const BULK_MEGABYTES: &str = "250";
const BULK_PACKAGES: &str = "20";

struct Row {
    what: String,
    ours: String,
    reference: String,
    ratio: String,
    target: &'static str,
}

pub fn run_bench() -> Result<()> {
    cargo(&[
        "build",
        "--release",
        "--bins",
        "-p",
        "mxos-cli",
        "-p",
        "mxos-tests",
    ])?;
    let bin = target_dir().join("release");
    let work = target_dir().join("bench");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("clearing {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let machine = describe_machine()?;
    let mut rows = Vec::new();

    // 1. Committing a large tree, ours (parallel writes) against `ostree commit`.
    let tree = work.join("tree");
    std::fs::create_dir_all(tree.join("usr"))?;
    for part in TREE_PARTS {
        run(Command::new("cp")
            .arg("-a")
            .arg(Path::new("/usr").join(part))
            .arg(tree.join("usr")))?;
    }
    let (bytes, files) = tree_size(&tree)?;
    let input = format!(
        "copy of /usr/{{{}}}: {} MB, {files} files",
        TREE_PARTS.join(","),
        bytes / 1_000_000
    );
    let (mut archive_ratio, mut bare_ratio) = (0.0, 0.0);
    for mode in ["archive", "bare-user"] {
        // Each run writes into a new, empty repository (a second commit into the same one
        // would find every object present); the runs alternate so drift hits both tools.
        let (mut ours_runs, mut theirs_runs) = (Vec::new(), Vec::new());
        for round in 0..COMMIT_ROUNDS {
            let reference_repo = work.join(format!("ostree-{mode}"));
            let our_repo = work.join(format!("ours-{mode}"));
            for r in [&reference_repo, &our_repo] {
                if r.exists() {
                    std::fs::remove_dir_all(r)?;
                }
            }
            run(Command::new("ostree")
                .arg("init")
                .arg(format!("--repo={}", reference_repo.display()))
                .arg(format!("--mode={mode}")))?;
            // Each run starts with nothing left to write back: otherwise whichever tool runs
            // second pays for the first one's dirty pages (and for the deleted repos).
            run(&mut Command::new("sync"))?;
            theirs_runs.push(timed(
                Command::new("ostree")
                    .arg("commit")
                    .arg(format!("--repo={}", reference_repo.display()))
                    .arg("--branch=bench")
                    .arg(format!("--tree=dir={}", tree.display()))
                    .arg("--no-xattrs")
                    .arg("--timestamp=2025-11-29T00:00:00Z"),
            )?);
            run(&mut Command::new("sync"))?;
            ours_runs.push(timed(
                Command::new(bin.join("mxos-compose"))
                    .arg("commit-dir")
                    .arg(&tree)
                    .arg("--repo")
                    .arg(&our_repo)
                    .arg("--mode")
                    .arg(mode)
                    .arg("--ref")
                    .arg("bench"),
            )?);
            if round == 0 {
                // Faster only counts if it is the same tree: compare the root's checksums.
                let root_of = |repo: &Path| {
                    output(
                        Command::new("ostree")
                            .arg("ls")
                            .arg(format!("--repo={}", repo.display()))
                            .args(["-d", "-C", "bench", "/"]),
                    )
                };
                let (a, b) = (root_of(&reference_repo)?, root_of(&our_repo)?);
                if a != b {
                    bail!("{mode}: our commit's tree differs from `ostree commit`'s:\n{a}\n{b}");
                }
            }
        }
        let (ours, theirs) = (median(&mut ours_runs), median(&mut theirs_runs));
        let ratio = secs(theirs) / secs(ours);
        if mode == "archive" {
            archive_ratio = ratio;
        } else {
            bare_ratio = ratio;
        }
        rows.push(Row {
            what: format!("commit, {mode} ({input}; median of {COMMIT_ROUNDS} runs each)"),
            ours: format!("{} ({})", fmt_secs(ours), spread(&ours_runs)),
            reference: format!(
                "{} ({}) (`ostree commit`)",
                fmt_secs(theirs),
                spread(&theirs_runs)
            ),
            ratio: format!("{ratio:.2}× faster"),
            target: if mode == "archive" {
                "≥ 1.8×"
            } else {
                "≥ 1.3×"
            },
        });
    }
    std::fs::remove_dir_all(&tree).ok();

    // 2. Composes of the demo treefile plus bulk packages: full (empty package cache), no-op,
    // one package changed (warm cache); then publishing.
    let rpms = |generation: u32| -> Result<PathBuf> {
        let dir = work.join(format!("rpms-{generation}"));
        run(Command::new(bin.join("mxos-testkit"))
            .arg("demo-repo")
            .arg(&dir)
            .arg("--generation")
            .arg(generation.to_string()))?;
        Ok(dir)
    };
    let (gen1, gen2) = (rpms(1)?, rpms(2)?);
    let bulk = work.join("rpms-bulk");
    run(Command::new(bin.join("mxos-testkit"))
        .arg("bulk-repo")
        .arg(&bulk)
        .args([BULK_SOURCE, BULK_MEGABYTES, BULK_PACKAGES]))?;
    let key = work.join("mxos");
    run(Command::new(bin.join("mxos-compose"))
        .arg("keygen")
        .arg(&key))?;
    let key = key.with_extension("secret");
    let build = work.join("build");
    let cachedir = work.join("compose-cache");
    let compose_into = |name: &str,
                        rpms: &Path,
                        gpgcheck: bool,
                        build: &Path,
                        cachedir: &Path|
     -> Result<(Duration, String)> {
        let treefile = bench_treefile(&work.join(name), rpms, &bulk, gpgcheck)?;
        run(&mut Command::new("sync"))?;
        timed_output(
            Command::new(bin.join("mxos-compose"))
                .arg("tree")
                .arg(&treefile)
                .arg("--repo")
                .arg(build)
                .arg("--cachedir")
                .arg(cachedir)
                .arg("--sign-key")
                .arg(&key)
                .arg("--overlays")
                .arg(workspace_root().join("overlays")),
        )
    };
    let compose = |name: &str, rpms: &Path| compose_into(name, rpms, true, &build, &cachedir);
    let (full, out) = compose("v1", &gen1)?;
    let c1 = committed(&out)?;
    let full_cache = cache_line(&out)?;
    let (noop, out) = compose("v1", &gen1)?;
    if !out.starts_with("no changes") {
        bail!("the unchanged recompose did not say `no changes`: {out}");
    }
    let (changed, out) = compose("v2", &gen2)?;
    let c2 = committed(&out)?;
    let changed_cache = cache_line(&out)?;
    let demo_input = format!(
        "demo treefile + {BULK_PACKAGES} packages of {BULK_SOURCE}, {} MB tree",
        repo_tree_kb(&build, &c1)? / 1000
    );
    rows.push(Row {
        what: format!("no-op recompose ({demo_input})"),
        ours: fmt_secs(noop),
        reference: format!("{} (our full compose)", fmt_secs(full)),
        ratio: format!("{:.2} of full", secs(noop) / secs(full)),
        target: "≤ 1 s",
    });
    rows.push(Row {
        what: format!("recompose, one package changed ({demo_input})"),
        ours: format!("{} ({changed_cache})", fmt_secs(changed)),
        reference: format!(
            "{} (our full compose, empty cache: {full_cache})",
            fmt_secs(full)
        ),
        ratio: format!("{:.2} of full", secs(changed) / secs(full)),
        target: "≤ 0.25 of full",
    });

    // The same full compose with the signature checks off (an explicit gpgcheck=0), into
    // its own repo and empty cache: what checking every package costs.
    let (unchecked, out) = compose_into(
        "v1-unchecked",
        &gen1,
        false,
        &work.join("build-unchecked"),
        &work.join("compose-cache-unchecked"),
    )?;
    if !out.contains("gpgcheck=0") {
        bail!("the compose with gpgcheck=0 did not warn about it: {out}");
    }
    rows.push(Row {
        what: format!("full compose, package signatures checked ({demo_input})"),
        ours: format!("{} (gpgcheck=1, the default)", fmt_secs(full)),
        reference: format!("{} (gpgcheck=0)", fmt_secs(unchecked)),
        ratio: format!("{:.2} of unchecked", secs(full) / secs(unchecked)),
        target: "(reported)",
    });

    let public = work.join("public");
    let publish = |extra: &[&str]| -> Result<Duration> {
        timed(
            Command::new(bin.join("mxos-compose"))
                .arg("publish")
                .arg("--repo")
                .arg(&build)
                .arg("--to")
                .arg(&public)
                .arg("--sign-key")
                .arg(&key)
                .arg("--ref")
                .arg(REF)
                .args(extra),
        )
    };
    // v1 is published first, as a device would have seen it; then v2 with its delta.
    run(Command::new("ostree")
        .arg("reset")
        .arg(format!("--repo={}", build.display()))
        .arg(REF)
        .arg(&c1))?;
    let first = publish(&[])?;
    run(Command::new("ostree")
        .arg("reset")
        .arg(format!("--repo={}", build.display()))
        .arg(REF)
        .arg(&c2))?;
    let with_delta = publish(&[])?;
    rows.push(Row {
        what: format!("publish v2 with its delta ({demo_input})"),
        ours: fmt_secs(with_delta),
        reference: format!("{} (first publish, no delta)", fmt_secs(first)),
        ratio: format!("{:.2}", secs(with_delta) / secs(first)),
        target: "(reported)",
    });

    // 3. What a device on v1 downloads for v2 over HTTP, with and without the delta.
    let server = HttpServer::serve(&public)?;
    let pulled = |name: &str, no_deltas: bool| -> Result<u64> {
        let client = work.join(name);
        let repo = format!("--repo={}", client.display());
        run(Command::new("ostree").args(["init", &repo, "--mode=bare-user"]))?;
        run(Command::new("ostree").args([
            "remote",
            "add",
            &repo,
            "--no-gpg-verify",
            "mxos",
            &server.url(),
        ]))?;
        // The device is on v1 (the ref as it was then), then upgrades.
        run(Command::new("ostree").args(["pull", &repo, "mxos", &format!("{REF}@{c1}")]))?;
        let mut cmd = Command::new("ostree");
        cmd.args(["pull", &repo, "mxos", REF]);
        if no_deltas {
            cmd.arg("--disable-static-deltas");
        }
        let (_, out) = timed_output(&mut cmd)?;
        transferred_bytes(&out)
            .with_context(|| format!("reading the bytes transferred from `ostree pull`: {out}"))
    };
    let delta_bytes = pulled("client-delta", false)?;
    let object_bytes = pulled("client-objects", true)?;
    drop(server);
    let changed_bytes = changed_files_compressed(&public, &c1, &c2)?;
    // `ostree pull` reports whole KiB and its count varies between runs; the delta's files
    // (the only delta published: v1 → v2) are what a device must fetch, byte for byte.
    let (delta_files, _) = tree_size(&public.join("deltas"))?;
    rows.push(Row {
        what: format!("device download v1 → v2, one package changed ({demo_input}; changed files {changed_bytes} B compressed)"),
        ours: format!("{delta_files} B of delta files ({delta_bytes} B per `ostree pull`)"),
        reference: format!("{object_bytes} B per `ostree pull --disable-static-deltas`"),
        ratio: format!(
            "{:.2}× the changed files",
            delta_files as f64 / changed_bytes.max(1) as f64
        ),
        target: "≤ 2× changed files",
    });

    rows.push(selinux_row(&bin, &work)?);

    let report = render(&machine, &rows, archive_ratio, bare_ratio);
    println!("{report}");
    let doc = workspace_root().join("docs/performance.md");
    std::fs::write(&doc, &report).with_context(|| format!("writing {}", doc.display()))?;
    eprintln!("xtask: wrote {}", doc.display());
    Ok(())
}

fn render(machine: &str, rows: &[Row], archive: f64, bare: f64) -> String {
    let mut s = String::from(
        "# Performance\n\n\
         Written by `cargo xtask bench` (release build). Each ratio compares runs made in \
         the same bench on the same input, one after the other, with a warm page cache and, \
         for commits, nothing left to write back when each run starts (`sync`). The \
         numbers are measured, not asserted by any test; re-run the bench to refresh them.\n\n\
         ## Machine\n\n",
    );
    s.push_str(machine);
    s.push_str("\n## Results\n\n| measurement | ours | reference | ratio | target |\n|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.what, r.ours, r.reference, r.ratio, r.target
        );
    }
    let _ = writeln!(
        s,
        "\nCommit speed-up: archive {archive:.2}×, bare-user {bare:.2}× (content objects written \
         from every core; archive mode is bound by zlib, so it gains most). The bench checks \
         that both tools produced the same root tree checksum before reporting a ratio.\n\n\
         The no-op recompose compares the plan, the overlays and each repo's repomd.xml \
         with the head's `mxos.prehash` and stops before dnf runs, so it does not grow with the \
         tree. The one-package recompose uses the package cache (rpm-ostree's pkgcache): only \
         the changed RPM is unpacked, the root is assembled by hard links from the others' \
         cache commits, and the commit takes unchanged files' checksums from the cache's inode \
         index instead of reading them. What still grows with the tree: dnf's download (a copy \
         from a file:// repo here) and blake3 of every resolved RPM, and rpm reading the \
         payloads of packages that carry scriptlets or triggers (the bulk packages carry none; \
         in a CentOS Stream tree many do, so expect a larger share there). The demo packages \
         are small: the delta and download figures show the mechanism (devices fetch the \
         delta, `KiB` granularity from `ostree pull`) on a one-package change, not large-tree \
         savings.\n\n\
         Signature checks: every demo and bulk package is signed by the demo key, and the \
         checked compose has dnf verify each one against the key beside the treefile \
         (`gpgcheck=1`, the default); the unchecked one says `gpgcheck=0` in its repo file. \
         Both start from an empty package cache. SELinux labels: the bootable test OS is \
         composed once, then its root is committed with and without labels, and the cost is \
         the difference set against that whole compose. Other load on the machine (see the \
         load average) skews all timings alike."
    );
    s
}

fn describe_machine() -> Result<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map(|l| l.trim().to_owned())
        .unwrap_or_default();
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|l| l.trim_matches('"').to_owned())
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let ostree = output(Command::new("ostree").arg("--version"))?;
    let ostree = ostree
        .lines()
        .find_map(|l| l.trim().strip_prefix("Version: "))
        .unwrap_or("?")
        .trim_matches('\'')
        .to_owned();
    Ok(format!(
        "- CPU: {model}, {cores} cores available\n- Memory: {mem}\n- OS: {os}; libostree {ostree}\n\
         - Load average when the bench started: {}\n",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    ))
}

/// Total size of regular files and number of entries under `dir`.
fn tree_size(dir: &Path) -> Result<(u64, u64)> {
    let (mut bytes, mut files) = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
            let e = e?;
            let meta = e.path().symlink_metadata()?;
            files += 1;
            if meta.is_dir() {
                stack.push(e.path());
            } else if meta.is_file() {
                bytes += meta.len();
            }
        }
    }
    Ok((bytes, files))
}

fn repo_tree_kb(repo: &Path, commit: &str) -> Result<u64> {
    let out = output(
        Command::new("ostree")
            .arg("ls")
            .arg(format!("--repo={}", repo.display()))
            .args(["-R", commit]),
    )?;
    // `ostree ls` columns: mode uid gid size path.
    let bytes: u64 = out
        .lines()
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split_whitespace().nth(3)?.parse::<u64>().ok())
        .sum();
    Ok(bytes / 1000)
}

/// Compressed size (`.filez` objects) of the regular files added or modified from `a` to `b`.
fn changed_files_compressed(public: &Path, a: &str, b: &str) -> Result<u64> {
    let repo = format!("--repo={}", public.display());
    let diff = output(Command::new("ostree").args(["diff", &repo, a, b]))?;
    let mut total = 0;
    for line in diff.lines() {
        let Some(path) = line
            .strip_prefix("M    ")
            .or_else(|| line.strip_prefix("A    "))
        else {
            continue;
        };
        let ls = output(Command::new("ostree").args(["ls", &repo, "-C", b, path.trim()]))?;
        let Some(entry) = ls.lines().next() else {
            continue;
        };
        if !entry.starts_with('-') {
            continue;
        }
        // `ostree ls -C` columns: mode uid gid size checksum path.
        let Some(csum) = entry.split_whitespace().nth(4) else {
            continue;
        };
        let object = public.join(format!("objects/{}/{}.filez", &csum[..2], &csum[2..]));
        total += std::fs::metadata(&object)
            .with_context(|| format!("reading {}", object.display()))?
            .len();
    }
    Ok(total)
}

/// `ostree pull` ends with "… fetched; 12.3 kB transferred in 0 seconds".
fn transferred_bytes(out: &str) -> Option<u64> {
    let line = out.lines().rev().find(|l| l.contains("transferred"))?;
    let before = line.split(" transferred").next()?;
    let mut words = before.rsplit(' ');
    let unit = words.next()?;
    let number: f64 = words.next()?.replace('\u{a0}', "").parse().ok()?;
    let (number, unit) = if unit.chars().next()?.is_ascii_digit() {
        // "12.3\u{a0}kB" in one word.
        let split = unit.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        (
            unit[..split].parse().ok()?,
            unit[split..].trim_start_matches('\u{a0}'),
        )
    } else {
        (number, unit)
    };
    let factor = match unit {
        "bytes" | "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        _ => return None,
    };
    Some((number * factor) as u64)
}

/// The demo treefile with the bulk packages added, from two local repos, both signed by the
/// demo key; `gpgcheck` says whether the compose checks those signatures (MxOS's default).
fn bench_treefile(dir: &Path, rpms: &Path, bulk: &Path, gpgcheck: bool) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let text = std::fs::read_to_string(workspace_root().join("treefiles/mxos-demo.yaml"))
        .context("reading treefiles/mxos-demo.yaml")?;
    let packages: String = (0..BULK_PACKAGES.parse::<usize>()?)
        .map(|i| format!("  - mxos-bulk-{i:02}\n"))
        .collect();
    // Without the packaged agent (its ~70 MB host runtime would swamp the demo's rows).
    let text = text
        .replacen("  - mxos-tools\n", "", 1)
        .replacen("  - mxos-update\n", "", 1)
        .replacen("  - mxos-demo\n", "  - mxos-demo\n  - mxos-bulk\n", 1)
        .replacen(
            "  - mxos-test-kernel\n",
            &format!("  - mxos-test-kernel\n{packages}"),
            1,
        );
    std::fs::write(dir.join("mxos-demo.yaml"), text)?;
    let key = "RPM-GPG-KEY-mxos-demo";
    std::fs::copy(workspace_root().join("treefiles").join(key), dir.join(key))
        .with_context(|| format!("copying treefiles/{key}"))?;
    let check = if gpgcheck {
        format!("gpgcheck=1\ngpgkey={key}")
    } else {
        "gpgcheck=0".to_owned()
    };
    std::fs::write(
        dir.join("mxos-demo.repo"),
        format!(
            "[mxos-demo]\nname=demo\nbaseurl=file://{}\n{check}\n\n[mxos-bulk]\nname=bulk\nbaseurl=file://{}\n{check}\n",
            rpms.display(),
            bulk.display()
        ),
    )?;
    Ok(dir.join("mxos-demo.yaml"))
}

/// The compose's "package cache: ..." line, without its label.
fn cache_line(out: &str) -> Result<String> {
    out.lines()
        .find_map(|l| l.strip_prefix("package cache: "))
        .map(str::to_owned)
        .with_context(|| format!("no package cache line in the compose output: {out}"))
}

fn committed(out: &str) -> Result<String> {
    out.split_whitespace()
        .find(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .with_context(|| format!("no commit checksum in the compose output: {out}"))
}

fn timed(cmd: &mut Command) -> Result<Duration> {
    timed_output(cmd).map(|(d, _)| d)
}

/// Runs `cmd`, returning its wall time and stdout+stderr; failure names the command.
fn timed_output(cmd: &mut Command) -> Result<(Duration, String)> {
    let line = format!("{cmd:?}");
    eprintln!("xtask: $ {line}");
    let start = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting {line}"))?;
    let took = start.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!("{line} failed ({}):\n{text}", out.status);
    }
    Ok((took, text))
}

fn output(cmd: &mut Command) -> Result<String> {
    timed_output(cmd).map(|(_, o)| o)
}

/// The middle run (sorts `runs`).
fn median(runs: &mut [Duration]) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn spread(runs: &[Duration]) -> String {
    let min = runs.iter().min().copied().unwrap_or_default();
    let max = runs.iter().max().copied().unwrap_or_default();
    format!("{:.2}–{:.2} s", min.as_secs_f64(), max.as_secs_f64())
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64().max(1e-6)
}

fn fmt_secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// A throwaway HTTP server for the published repo (python3's, enough for one client).
struct HttpServer {
    child: Child,
    port: u16,
}

impl HttpServer {
    fn serve(dir: &Path) -> Result<HttpServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting python3 -m http.server")?;
        let server = HttpServer { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("python3 -m http.server did not listen on port {port}")
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What SELinux labelling costs on the bootable test OS (Debian's reference policy): the
/// compose once, then its root committed again with and without labels, each into an empty
/// repo; the difference against the whole compose.
fn selinux_row(bin: &Path, work: &Path) -> Result<Row> {
    let repo = work.join("vm-build");
    let treefile = workspace_root().join("treefiles/mxos-vm.yaml");
    let (compose_time, out) = timed_output(
        Command::new(bin.join("mxos-compose"))
            .arg("tree")
            .arg(&treefile)
            .arg("--repo")
            .arg(&repo)
            .arg("--workdir")
            .arg(work.join("vm-work")),
    )?;
    let commit = committed(&out)?;
    let root = work.join("vm-root");
    run(Command::new("ostree")
        .arg("checkout")
        .arg(format!("--repo={}", repo.display()))
        .arg(&commit)
        .arg(&root))?;
    let (mut plain, mut labelled) = (Vec::new(), Vec::new());
    for round in 0..COMMIT_ROUNDS {
        for selinux in [false, true] {
            let target = work.join(format!("vm-commit-{round}-{selinux}"));
            let mut cmd = Command::new(bin.join("mxos-compose"));
            cmd.arg("commit-dir")
                .arg(&root)
                .arg("--repo")
                .arg(&target)
                .args(["--mode", "archive", "--ref", "bench"]);
            if selinux {
                cmd.arg("--selinux");
            }
            run(&mut Command::new("sync"))?;
            let t = timed(&mut cmd)?;
            if selinux {
                labelled.push(t)
            } else {
                plain.push(t)
            }
            std::fs::remove_dir_all(&target).ok();
        }
    }
    let (plain, labelled) = (median(&mut plain), median(&mut labelled));
    let cost = labelled.saturating_sub(plain);
    Ok(Row {
        what: "SELinux labels, treefiles/mxos-vm.yaml (Debian reference policy): commit of its root with and without labels".into(),
        ours: format!("{} labelled", fmt_secs(labelled)),
        reference: format!("{} unlabelled; whole compose {}", fmt_secs(plain), fmt_secs(compose_time)),
        ratio: format!("{:.3} of the compose", secs(cost) / secs(compose_time)),
        target: "≤ 0.15 of the compose",
    })
}
