//! Every error names its file (and line/column where known) and what would be accepted; exact text asserted.

mod common;

use std::os::unix::fs::symlink;

use common::{load_err, str_err, write};
use mxos_treefile::{load, MAX_INCLUDE_DEPTH};

#[test]
fn unknown_key_in_included_file_names_that_file_line_and_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let inc = write(dir.path(), "x.yaml", "ref: r\n\npakages: [a]\n");
    let top = write(dir.path(), "top.yaml", "include: x.yaml\n");
    assert_eq!(
        load_err(&top),
        format!(
            "{}:3:1: unknown key `pakages`; did you mean `packages`?",
            inc.display()
        )
    );
}

#[test]
fn unknown_key_far_from_any_lists_known_keys() {
    // The full list grows with every key; check its shape, not its length.
    let err = str_err("ref: r\nfirmware-blobs: x.sh\n");
    let (head, list) = err.split_once("; known keys: ").unwrap();
    assert_eq!(head, "t.yaml:2:1: unknown key `firmware-blobs`");
    let keys: Vec<&str> = list.split(", ").collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "known keys are listed sorted");
    for k in [
        "add-commit-metadata",
        "include",
        "packages-x86_64",
        "postprocess",
        "ref",
        "variables",
    ] {
        assert!(keys.contains(&k), "{k} missing from {list}");
    }
}

#[test]
fn wrong_type_names_key_line_and_expectation() {
    assert_eq!(
        str_err("ref: r\npackages: bash\n"),
        "t.yaml:2:11: key `packages`: expected a list of strings, found string \"bash\""
    );
    assert_eq!(
        str_err("ref: r\npackages:\n  - a\n  - [b]\n"),
        "t.yaml:4:5: key `packages`: expected a list of strings, found sequence"
    );
    assert_eq!(
        str_err("ref: r\ndocumentation: maybe\n"),
        "t.yaml:2:16: key `documentation`: expected a boolean (`true` or `false`), found string \"maybe\""
    );
    assert_eq!(
        str_err("ref: r\ninclude: {a: b}\n"),
        "t.yaml:2:10: key `include`: expected a file name or a list of file names, found map"
    );
}

#[test]
fn wrong_type_in_included_file() {
    let dir = tempfile::tempdir().unwrap();
    let inc = write(dir.path(), "inc.yaml", "# comment\nunits: 3\n");
    let top = write(dir.path(), "top.yaml", "ref: r\ninclude: [inc.yaml]\n");
    assert_eq!(
        load_err(&top),
        format!(
            "{}:2:8: key `units`: expected a list of strings, found integer `3`",
            inc.display()
        )
    );
}

#[test]
fn unsupported_backend_says_what_is_accepted() {
    assert_eq!(
        str_err("ref: r\nbackend: rpm-ostree\n"),
        "t.yaml:2:10: key `backend`: unknown value `rpm-ostree`; accepted: `dnf` or `apt`"
    );
}

#[test]
fn ref_is_optional_as_in_rpm_ostree() {
    // Trees composed for container images name no ref.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "inc.yaml", "packages: [a]\n");
    let top = write(dir.path(), "top.yaml", "include: inc.yaml\n");
    let plan = load(&top, "x86_64").unwrap();
    assert_eq!(plan.reference(), None);
    assert_eq!(plan.treefile.packages, ["a"]);
}

#[test]
fn yaml_syntax_error_has_position() {
    assert_eq!(
        str_err("ref: r\npackages: [a\n"),
        "t.yaml:3:1: invalid YAML: did not find expected ',' or ']', while parsing a flow sequence at line 2 column 11"
    );
}

#[test]
fn duplicate_key_points_at_second_occurrence() {
    assert_eq!(
        str_err("ref: a\npackages: [x]\nref: b\n"),
        "t.yaml:3:1: duplicate key `ref`"
    );
}

#[test]
fn top_level_must_be_a_mapping() {
    assert_eq!(
        str_err("- ref\n"),
        "t.yaml:1:1: the top level must be a mapping of treefile keys, found a list"
    );
    // An empty file (or one with only comments) is an empty treefile, as real trees use them.
    let plan = mxos_treefile::load_str("t.yaml", "# nothing yet\n", "x86_64").unwrap();
    assert_eq!(plan.reference(), None);
    assert!(plan.treefile.packages.is_empty());
}

#[test]
fn missing_include_names_including_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let top = write(dir.path(), "top.yaml", "ref: r\ninclude: nope.yaml\n");
    assert_eq!(
        load_err(&top),
        format!(
            "{}: cannot read included file `nope.yaml` ({}): No such file or directory (os error 2)",
            top.display(),
            dir.path().join("nope.yaml").display()
        )
    );
}

#[test]
fn include_loop_names_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.yaml", "ref: r\ninclude: b.yaml\n");
    let b = write(dir.path(), "b.yaml", "include: a.yaml\n");
    assert_eq!(
        load_err(&a),
        format!(
            "include loop: {} -> {} -> {}",
            a.display(),
            b.display(),
            a.display()
        )
    );
}

#[test]
fn include_loop_through_symlink_is_the_same_inode() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.yaml", "ref: r\ninclude: alias.yaml\n");
    symlink(&a, dir.path().join("alias.yaml")).unwrap();
    assert_eq!(
        load_err(&a),
        format!(
            "include loop: {} -> {}",
            a.display(),
            dir.path().join("alias.yaml").display()
        )
    );
}

#[test]
fn include_without_directory_in_load_str() {
    assert_eq!(
        str_err("ref: r\ninclude: x.yaml\n"),
        "t.yaml: `include` is not available for a treefile loaded from a string (no directory to resolve it against)"
    );
}

/// f0 includes f1 includes ... f{last}.
fn chain(dir: &std::path::Path, last: usize) -> std::path::PathBuf {
    for i in 0..last {
        write(
            dir,
            &format!("f{i}.yaml"),
            &format!("include: f{}.yaml\npackages: [p{i}]\n", i + 1),
        );
    }
    write(dir, &format!("f{last}.yaml"), "ref: r\n");
    dir.join("f0.yaml")
}

#[test]
fn include_depth_limit() {
    let ok = tempfile::tempdir().unwrap();
    let plan = load(&chain(ok.path(), MAX_INCLUDE_DEPTH), "x86_64").unwrap();
    assert_eq!(plan.sources.len(), MAX_INCLUDE_DEPTH + 1);

    let deep = tempfile::tempdir().unwrap();
    let top = chain(deep.path(), MAX_INCLUDE_DEPTH + 1);
    assert_eq!(
        load_err(&top),
        format!(
            "{}: include depth limit of 50 exceeded (included from {})",
            deep.path().join("f51.yaml").display(),
            deep.path().join("f50.yaml").display()
        )
    );
}

#[test]
fn unknown_variable_lists_defined_ones() {
    assert_eq!(
        str_err("ref: mxos/${strem}/${basearch}\nvariables: {stream: next}\nreleasever: \"10\"\n"),
        "t.yaml:1:1: key `ref`: unknown variable `strem`; defined: basearch, releasever, stream"
    );
    assert_eq!(
        str_err("ref: mxos/${releasever}\n"),
        "t.yaml:1:1: key `ref`: unknown variable `releasever`; defined: basearch"
    );
    assert_eq!(
        str_err("ref: mxos/${basearch\n"),
        "t.yaml:1:1: key `ref`: unterminated `${` in `mxos/${basearch`"
    );
}

#[test]
fn unknown_variable_names_the_file_that_set_ref() {
    let dir = tempfile::tempdir().unwrap();
    let inc = write(dir.path(), "inc.yaml", "ref: ${nope}\n");
    let top = write(dir.path(), "top.yaml", "include: inc.yaml\n");
    assert_eq!(
        load_err(&top),
        format!(
            "{}:1:1: key `ref`: unknown variable `nope`; defined: basearch",
            inc.display()
        )
    );
}

#[test]
fn builtin_variables_cannot_be_redefined() {
    assert_eq!(
        str_err("ref: r\nvariables: {basearch: x}\n"),
        "t.yaml:2:1: key `variables`: `basearch` is built in and cannot be redefined"
    );
}

#[test]
fn bad_version_prefix_reported_at_load() {
    assert_eq!(
        str_err("ref: r\nautomatic-version-prefix: \"10.<date:%Y%q>\"\n"),
        "t.yaml:2:1: key `automatic-version-prefix`: unsupported `%q` in `<date:%Y%q>`; accepted: %Y %m %d %H %M %S %%"
    );
}

#[test]
fn apt_backend_needs_a_suite_and_dnf_refuses_apt_keys() {
    let err = mxos_treefile::load_str("vm.yaml", "ref: x\nbackend: apt\n", "x86_64").unwrap_err();
    assert_eq!(err.to_string(), "vm.yaml: missing required key `suite`");
    let err = mxos_treefile::load_str("d.yaml", "ref: x\nsuite: bookworm\n", "x86_64").unwrap_err();
    assert_eq!(
        err.to_string(),
        "d.yaml:2:1: key `suite`: only used with `backend: apt`"
    );
    let err =
        mxos_treefile::load_str("d.yaml", "ref: x\napt-variant: custom\n", "x86_64").unwrap_err();
    assert_eq!(
        err.to_string(),
        "d.yaml:2:1: key `apt-variant`: only used with `backend: apt`"
    );
    let err = mxos_treefile::load_str("b.yaml", "ref: x\nbackend: yum\n", "x86_64").unwrap_err();
    assert_eq!(
        err.to_string(),
        "b.yaml:2:10: key `backend`: unknown value `yum`; accepted: `dnf` or `apt`"
    );
    let plan = mxos_treefile::load_str(
        "vm.yaml",
        "ref: x\nbackend: apt\nsuite: bookworm\n",
        "x86_64",
    )
    .unwrap();
    let t = &plan.treefile;
    assert_eq!(t.backend, mxos_treefile::Backend::Apt);
    assert!(t.bootable && t.machineid_compat && !t.tmp_is_dir);
}

#[test]
fn apt_sources_are_sources_list_lines_of_apt_trees_only() {
    let err = mxos_treefile::load_str(
        "d.yaml",
        "ref: x\napt-sources: [\"deb file:///r ./\"]\n",
        "x86_64",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "d.yaml:2:1: key `apt-sources`: only used with `backend: apt`; dnf trees name their repositories in `.repo` files beside the treefile"
    );
    let accepted = "accepted: a one-line sources.list entry `deb [OPTIONS] URI SUITE [COMPONENT...]`, e.g. `deb [trusted=yes] file:///srv/mxos-repo ./` or `deb https://deb.example.mx/mxos bookworm main`";
    let cases = [
        ("file:///srv/repo ./", "`file:///srv/repo ./` does not start with `deb` or `deb-src`"),
        ("deb [trusted=yes file:///r ./", "`deb [trusted=yes file:///r ./` opens `[` without closing it"),
        ("deb [trusted] file:///r ./", "`deb [trusted] file:///r ./` has the option `trusted` without `=VALUE`"),
        ("deb /srv/repo ./", "`deb /srv/repo ./` has `/srv/repo` where the URI goes"),
        ("deb http://d.mx/mxos", "`deb http://d.mx/mxos` has no suite"),
        ("deb http://d.mx/mxos bookworm", "`deb http://d.mx/mxos bookworm` has no component after the suite `bookworm` (a flat repository's path ends in `/`)"),
        ("deb file:///r ./ main", "`deb file:///r ./ main` names components after a flat repository's path"),
    ];
    for (line, why) in cases {
        let text = format!("ref: x\nbackend: apt\nsuite: bookworm\napt-sources:\n  - {line:?}\n");
        let err = mxos_treefile::load_str("vm.yaml", &text, "x86_64").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("vm.yaml:4:1: key `apt-sources`: {why}; {accepted}"),
            "{line}"
        );
    }
    let plan = mxos_treefile::load_str(
        "vm.yaml",
        "ref: x\nbackend: apt\nsuite: bookworm\napt-sources: [\"deb [trusted=yes] file:///srv/mxos-repo ./\"]\n",
        "x86_64",
    )
    .unwrap();
    assert_eq!(
        plan.treefile.apt_sources,
        ["deb [trusted=yes] file:///srv/mxos-repo ./"]
    );
}

#[test]
fn check_passwd_takes_rpm_ostree_shape() {
    let plan = mxos_treefile::load_str("c.yaml", "ref: x\ncheck-passwd: {type: none}\n", "x86_64")
        .unwrap();
    assert_eq!(plan.treefile.check_passwd, mxos_treefile::CheckPasswd::None);
    assert_eq!(
        plan.treefile.check_groups,
        mxos_treefile::CheckGroups::Previous
    );
    for (text, message) in [
        (
            "check-groups: {type: file}",
            "c.yaml:2:15: key `check-groups`: `type: file` needs `filename: FILE`",
        ),
        (
            "check-groups: {type: none, entries: {a: 1}}",
            "c.yaml:2:15: key `check-groups`: only `type: data` takes `entries`",
        ),
        (
            "check-passwd: {type: data, entries: {root: [0, 0, 0]}}",
            "c.yaml:2:44: key `check-passwd`: invalid length 3, expected a uid, `[uid]` or `[uid, gid]`",
        ),
        (
            "check-passwd: {type: nis}",
            "c.yaml:2:22: key `check-passwd`: unknown value `nis`; accepted: one of `none`, `previous`, `file`, `data`",
        ),
    ] {
        let err = mxos_treefile::load_str("c.yaml", &format!("ref: x\n{text}\n"), "x86_64")
            .unwrap_err();
        assert_eq!(err.to_string(), message, "{text}");
    }
    let err = mxos_treefile::load_str(
        "c.yaml",
        "ref: x\nmachineid-compat: false\nunits: [a.service]\n",
        "x86_64",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "c.yaml:3:1: key `units`: cannot be used with `machineid-compat: false`; use systemd presets"
    );
}
