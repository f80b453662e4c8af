//! The tools as distribution packages: the RPMs (rpmbuild, dist/mxos-tools.spec) and the
//! .debs (dpkg-deb) hold the same files, in the places distributions expect, with the
//! dependencies their binaries need; checked from `rpm -qlp` and `dpkg -c` listings.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn workspace() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

#[test]
fn rpm_and_deb_hold_the_tools_where_distributions_expect_them() {
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mxos-update"))
        .parent()
        .unwrap();
    let report = mxos_dist::build(&mxos_dist::DistRequest {
        workspace: workspace(),
        bin_dir: bin_dir.to_owned(),
        out_dir: tmp.path().to_owned(),
        version: "0.1.0".into(),
    })
    .unwrap();
    let names: Vec<String> = report
        .rpms
        .iter()
        .chain(&report.debs)
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "mxos-compose-0.1.0-1.x86_64.rpm",
            "mxos-update-0.1.0-1.x86_64.rpm",
            "mxos-update_0.1.0_amd64.deb",
            "mxos-compose_0.1.0_amd64.deb"
        ]
    );
    let update_rpm = &report.rpms[1];
    let update_deb = &report.debs[0];

    let rpm_files: BTreeSet<String> = output(
        Command::new("rpm")
            .args(["-qlp", "--nosignature"])
            .arg(update_rpm),
    )
    .lines()
    .map(str::to_owned)
    .collect();
    for f in [
        "/usr/bin/mxos-update",
        "/usr/lib/systemd/system/mxos-update.service",
        "/usr/lib/systemd/system/mxos-update.timer",
        "/usr/lib/systemd/system/mxos-health.service",
        "/usr/lib/systemd/system-preset/80-mxos-update.preset",
        "/usr/lib/mxos/update.d",
        "/usr/lib/mxos/update.d/00-mxos-defaults.toml",
        "/usr/share/man/man1/mxos-update.1.gz",
        "/usr/share/man/man1/mxos-update-check.1.gz",
        "/usr/share/man/man1/mxos-update-rollback.1.gz",
        "/usr/share/man/es/man1/mxos-update.1.gz",
        "/usr/share/man/es/man1/mxos-update-check.1.gz",
        "/usr/share/bash-completion/completions/mxos-update",
        "/usr/share/zsh/site-functions/_mxos-update",
        "/usr/share/fish/vendor_completions.d/mxos-update.fish",
        "/usr/share/doc/mxos/device-guide.md",
    ] {
        assert!(
            rpm_files.contains(f),
            "{f} missing from the RPM: {rpm_files:#?}"
        );
    }
    assert!(
        !rpm_files.iter().any(|f| f.contains("mxos-compose")),
        "the maintainer tool is its own package: {rpm_files:#?}"
    );

    // The .deb holds the same files.
    let deb_files: BTreeSet<String> = output(Command::new("dpkg").arg("-c").arg(update_deb))
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(|p| p.trim_start_matches('.').trim_end_matches('/').to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let rpm_non_dirs: BTreeSet<&String> = rpm_files
        .iter()
        .filter(|f| *f != "/usr/lib/mxos/update.d")
        .collect();
    for f in rpm_non_dirs {
        assert!(
            deb_files.contains(f),
            "{f} is in the RPM but not the .deb: {deb_files:#?}"
        );
    }

    // Stripped, with the dependencies the binary links.
    let file = output(
        Command::new("file")
            .arg("-b")
            .arg(tmp.path().join("stage/mxos-update/usr/bin/mxos-update")),
    );
    assert!(
        file.contains("stripped") && !file.contains("not stripped"),
        "{file}"
    );
    let requires = output(
        Command::new("rpm")
            .args(["-qp", "--requires", "--nosignature"])
            .arg(update_rpm),
    );
    assert!(
        requires.contains("libostree-1.so.1()(64bit)") && requires.contains("ostree"),
        "{requires}"
    );
    let control = output(
        Command::new("dpkg-deb")
            .args(["-f"])
            .arg(update_deb)
            .arg("Depends"),
    );
    assert!(
        control.contains("libostree-1-1") && control.contains("libc6"),
        "{control}"
    );
    let scripts = output(
        Command::new("rpm")
            .args(["-qp", "--scripts", "--nosignature"])
            .arg(update_rpm),
    );
    assert!(
        scripts.contains("systemctl --no-reload preset mxos-update.timer mxos-health.service"),
        "{scripts}"
    );

    // The packaged defaults are a valid configuration fragment.
    let defaults = std::fs::read_to_string(workspace().join("dist/00-mxos-defaults.toml")).unwrap();
    let settings = mxos_agent::config::load(
        vec![mxos_agent::config::Fragment::new(
            "/usr/lib/mxos/update.d/00-mxos-defaults.toml",
            defaults,
        )],
        vec![],
    )
    .unwrap();
    assert_eq!(settings, mxos_agent::config::Settings::default());
}
