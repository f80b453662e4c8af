//! rpm-ostree's keys beyond the basics: JSON treefiles, old spellings with their warnings,
//! files a treefile names, `container` and `edition`, and the checks on their values.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{load_err, str_err, write};
use mxos_treefile::{load, load_str, BootLocation, CheckGroups, CheckPasswd, OptUsrlocal, Rpmdb};

#[test]
fn json_treefiles_read_like_yaml_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "base.json",
        "{\n  \"ref\": \"fedora-atomic/${basearch}/base\",\n  \"packages\": [\"kernel ostree\"],\n  \"selinux\": true\n}\n",
    );
    let top = write(
        d,
        "docker.json",
        "{\n  \"include\": \"base.json\",\n  \"packages\": [\"docker\"],\n  \"units\": [\"docker.service\"]\n}\n",
    );
    let plan = load(&top, "x86_64").unwrap();
    assert_eq!(plan.reference(), Some("fedora-atomic/x86_64/base"));
    assert_eq!(plan.treefile.packages, ["docker", "kernel", "ostree"]);
    assert_eq!(plan.treefile.selinux, Some(true));

    let bad = write(
        d,
        "bad.json",
        "{\n  \"ref\": \"r\",\n  \"pakages\": []\n}\n",
    );
    assert_eq!(
        load_err(&bad),
        format!(
            "{}:3:3: unknown key `pakages`; did you mean `packages`?",
            bad.display()
        )
    );
    let bad = write(
        d,
        "type.json",
        "{\n  \"ref\": \"r\",\n  \"units\": \"a.service\"\n}\n",
    );
    assert_eq!(
        load_err(&bad),
        format!(
            "{}:3:12: key `units`: expected a list of strings, found string \"a.service\"",
            bad.display()
        )
    );
}

#[test]
fn old_spellings_are_accepted_with_a_warning_naming_file_and_line() {
    let plan = load_str(
        "ws.yaml",
        "ref: r\nautomatic_version_prefix: \"38\"\ndefault_target: graphical.target\n\
         rojig: {name: fedora, summary: Fedora, license: MIT}\nboot_location: both\nrpmdb: bdb\n",
        "x86_64",
    )
    .unwrap();
    assert_eq!(
        plan.treefile.automatic_version_prefix.as_deref(),
        Some("38")
    );
    assert_eq!(
        plan.treefile.default_target.as_deref(),
        Some("graphical.target")
    );
    assert_eq!(plan.treefile.boot_location, BootLocation::New);
    assert_eq!(plan.treefile.rpmdb, Rpmdb::Bdb);
    let warnings: Vec<String> = plan.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "ws.yaml:2:1: `automatic_version_prefix` is a deprecated spelling; use `automatic-version-prefix`",
            "ws.yaml:3:1: `default_target` is a deprecated spelling; use `default-target`",
            "ws.yaml:4:1: `rojig` is deprecated and has no effect",
            "ws.yaml:5:1: `boot_location` is a deprecated spelling; use `boot-location`",
            "ws.yaml:6:1: `rpmdb: bdb` is deprecated; the database is written in the target's own format, as with `rpmdb: target`",
        ]
    );
    let plan = load_str(
        "t.yaml",
        "ref: r\nboot-location: legacy\ngpg_key: ABCD\n",
        "x86_64",
    )
    .unwrap();
    assert_eq!(
        plan.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "t.yaml:2:1: `boot-location: legacy` is a value of old rpm-ostree releases, read as `new`, which is deprecated too; use `boot-location: modules`",
            "t.yaml:3:1: `gpg_key` is a deprecated spelling; use `gpg-key`",
        ]
    );
    assert_eq!(
        str_err("ref: r\ngpg_key: A\ngpg-key: B\n"),
        "t.yaml:2:1: both `gpg_key` and `gpg-key` are set; keep `gpg-key` (the other is its old spelling)"
    );
    // Only rpm-ostree's four old spellings exist; others are typos with a suggestion.
    assert_eq!(
        str_err("ref: r\ninstall_langs: [es]\n"),
        "t.yaml:2:1: unknown key `install_langs`; did you mean `install-langs`?"
    );
}

#[test]
fn client_side_keys_and_other_architectures_are_refused() {
    assert_eq!(
        str_err("ref: r\noverride-remove: [nano]\n"),
        "t.yaml:2:1: `override-remove` is a client-side key (rpm-ostree install, override, rebase); a compose treefile cannot use it"
    );
    assert_eq!(
        str_err("ref: r\nbasearch: aarch64\n"),
        "t.yaml:2:1: key `basearch`: `aarch64` is not the architecture composed for (`x86_64`); cross-composes are not supported"
    );
    load_str("t.yaml", "ref: r\nbasearch: x86_64\n", "x86_64").unwrap();
}

#[test]
fn container_and_edition_set_rpm_ostree_s_values() {
    let plan = load_str(
        "c.yaml",
        "container: true\ntmp-is-dir: false\ncheck-passwd: {type: previous}\npackages: [bash]\n",
        "x86_64",
    )
    .unwrap();
    let t = &plan.treefile;
    // container: true wins over what the same file says.
    assert!(t.tmp_is_dir && !t.preserve_passwd);
    assert_eq!(t.selinux, Some(false));
    assert_eq!(t.boot_location, BootLocation::Modules);
    assert_eq!(t.check_passwd, CheckPasswd::None);
    assert_eq!(t.check_groups, CheckGroups::None);

    let plan = load_str("e.yaml", "edition: \"2024\"\nref: r\n", "x86_64").unwrap();
    assert!(plan.treefile.tmp_is_dir);
    assert_eq!(plan.treefile.boot_location, BootLocation::Modules);
    let plan = load_str("e.yaml", "edition: \"2024\"\ntmp-is-dir: false\n", "x86_64").unwrap();
    assert!(!plan.treefile.tmp_is_dir);
    assert_eq!(
        str_err("ref: r\nedition: 2025\n"),
        "t.yaml:2:10: key `edition`: unknown value `2025`; accepted: `2014` or `2024`"
    );
    assert_eq!(
        load_str("o.yaml", "opt-usrlocal: stateoverlay\n", "x86_64")
            .unwrap()
            .treefile
            .opt_usrlocal,
        OptUsrlocal::StateOverlay
    );
}

#[test]
fn files_a_treefile_names_are_read_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "conf/motd", "bienvenidos\n");
    write(d, "sub/passwd", "root:x:0:0::/root:/bin/sh\n");
    let script = write(d, "sub/post.sh", "#!/bin/sh\necho hi\n");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    write(
        d,
        "sub/inc.yaml",
        "postprocess-script: post.sh\ncheck-passwd: {type: file, filename: passwd}\n",
    );
    let top = write(
        d,
        "top.yaml",
        "ref: r\ninclude: sub/inc.yaml\nadd-files:\n  - [conf/motd, /usr/etc/motd]\n",
    );
    let plan = load(&top, "x86_64").unwrap();
    let t = &plan.treefile;
    assert_eq!(t.add_files[0].dest, "/usr/etc/motd");
    assert_eq!(t.add_files[0].source.path, d.join("conf/motd"));
    assert_eq!(
        t.add_files[0].source.blake3,
        blake3::hash(b"bienvenidos\n").to_hex().to_string()
    );
    assert_eq!(
        t.postprocess_script.as_ref().unwrap().path,
        d.join("sub/post.sh")
    );
    let CheckPasswd::File { filename } = &t.check_passwd else {
        panic!("{:?}", t.check_passwd)
    };
    assert_eq!(filename.path, d.join("sub/passwd"));
    // The canonical form names the files as written, never where they are on this host.
    let json = plan.canonical_json();
    assert!(
        json.contains("\"name\":\"conf/motd\"") && !json.contains(d.to_str().unwrap()),
        "{json}"
    );

    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(
        load_err(&top),
        format!(
            "{}:1:1: key `postprocess-script`: `post.sh` ({}) must be executable (chmod +x)",
            d.join("sub/inc.yaml").display(),
            d.join("sub/post.sh").display()
        )
    );
    let missing = write(
        d,
        "missing.yaml",
        "ref: r\nadd-files: [[nope, /usr/share/nope]]\n",
    );
    assert_eq!(
        load_err(&missing),
        format!(
            "{}:2:1: key `add-files`: cannot read `nope` ({}): No such file or directory (os error 2)",
            missing.display(),
            d.join("nope").display()
        )
    );
}

#[test]
fn values_are_checked_where_rpm_ostree_checks_them() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f", "x");
    let cases = [
        (
            "add-files: [[f, /var/lib/f]]",
            "t.yaml:2:1: key `add-files`: `/var/lib/f` is outside what a compose may add to; accepted: paths under /usr (not /usr/local), /etc, /bin, /sbin, /lib, /lib64",
        ),
        (
            "remove-files: [/usr/share/doc]",
            "t.yaml:2:1: key `remove-files`: `/usr/share/doc` is absolute; write it relative to the root, e.g. `usr/share/doc`",
        ),
        (
            "remove-from-packages: [[cracklib-dicts]]",
            "t.yaml:2:1: key `remove-from-packages`: `cracklib-dicts` has no patterns; write `[cracklib-dicts, REGEX, ...]`",
        ),
        (
            "remove-from-packages: [[systemd, \"(\"]]",
            "t.yaml:2:1: key `remove-from-packages`: `systemd`: `(` is not a regular expression: regex parse error:\n    (\n    ^\nerror: unclosed group",
        ),
        (
            "repovars: {releasever: \"10\"}",
            "t.yaml:2:1: key `repovars`: `releasever` is set by the `releasever` key, not here",
        ),
        (
            "automatic-version-suffix: \"--\"",
            "t.yaml:2:1: key `automatic-version-suffix`: `--` must be exactly one ASCII character, e.g. `.`",
        ),
        (
            "selinux-label-version: 2",
            "t.yaml:2:1: key `selinux-label-version`: `2` is not a labelling version; accepted: 0, 1",
        ),
        (
            "packages: [\"'podman >= 4\"]",
            "t.yaml:2:1: key `packages`: missing terminating quote in `'podman >= 4`",
        ),
        (
            "variables: {v: \"${x}\"}",
            "t.yaml:2:1: key `variables`: `v`: `$` may not appear in variable names or values",
        ),
    ];
    for (text, message) in cases {
        let tf = write(dir.path(), "t.yaml", &format!("ref: r\n{text}\n"));
        let err = load_err(&tf);
        assert_eq!(err, format!("{}/{message}", dir.path().display()), "{text}");
    }
}

#[test]
fn substitution_happens_only_where_rpm_ostree_does_it() {
    let plan = load_str(
        "t.yaml",
        "ref: fedora/${basearch}/coreos/${stream}\nreleasever: 40\nvariables: {stream: testing}\n\
         automatic-version-prefix: \"${releasever}.<date:%Y%m%d>.dev\"\nmutate-os-release: \"${releasever}\"\n\
         add-commit-metadata: {fedora-coreos.stream: \"${stream}\", nested: {x: \"${stream}\"}}\n\
         postprocess: [\"for x in ${list[@]}; do echo ${stream}; done\"]\n",
        "x86_64",
    )
    .unwrap();
    let t = &plan.treefile;
    assert_eq!(plan.reference(), Some("fedora/x86_64/coreos/testing"));
    assert_eq!(
        t.automatic_version_prefix.as_deref(),
        Some("40.<date:%Y%m%d>.dev")
    );
    assert_eq!(t.mutate_os_release.as_deref(), Some("40"));
    assert_eq!(t.add_commit_metadata["fedora-coreos.stream"], "testing");
    assert_eq!(t.add_commit_metadata["nested"]["x"], "${stream}");
    assert_eq!(
        t.postprocess,
        ["for x in ${list[@]}; do echo ${stream}; done"]
    );
}
